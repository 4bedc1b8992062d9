# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host-side helpers of the golden image pipeline (packer/build.sh, packer/demobox.pkr.hcl).

    python3 pipeline.py render-http --template packer/http/user-data.in --out DIR --admin-user U --keys FILE --build-key PUB
    python3 pipeline.py collection --tarball T --commit C --dirty 0|1 --out collection.json
    python3 pipeline.py manifest --image X.qcow2 --version V --facts F --collection C --build-info B --layers layer1 --out M
    python3 pipeline.py stages --log packer.log --pre stages.tsv [--manifest M]
    python3 pipeline.py images list|add|prune|rollback|verify --store DIR ...

Standard library only (the host's python3 runs it, outside any venv).
"""
import argparse
import datetime
import hashlib
import json
import os
import re
import shutil
import string
import subprocess
import sys

IMAGE_PREFIX = "vault-cube-demo-box-v"
VERSION_RE = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")
KEY_RE = re.compile(r"^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp\d+|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com) [A-Za-z0-9+/=]+( .*)?$")
# What each layer installs, as the manifest names it: null unless the machine has it.
LAYER_SOFTWARE = {2: ["nvidia_driver", "cuda", "cudnn"], 3: ["nvidia_container_toolkit"], 4: ["ai_venv"]}


class PipelineError(Exception):
    """One sentence for the user; build.sh prints it and stops."""


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def sha256_file(path, chunk=4 << 20):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def load_json(path, what):
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except OSError as exc:
        raise PipelineError("%s %s cannot be read: %s." % (what, path, exc.strerror or exc))
    except ValueError as exc:
        raise PipelineError("%s %s is not valid JSON: %s." % (what, path, exc))


def write_json(path, data):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2, sort_keys=True)
        handle.write("\n")
    os.replace(tmp, path)


def version_key(version):
    match = VERSION_RE.match(version or "")
    if not match:
        raise PipelineError("version %r is not MAJOR.MINOR.PATCH." % (version,))
    return tuple(int(p) for p in match.groups())


# --- render-http -------------------------------------------------------------------------------

def read_keys(path):
    """The public key lines of an authorized_keys file; refuses anything else."""
    try:
        with open(path, encoding="utf-8") as handle:
            lines = [line.strip() for line in handle if line.strip() and not line.lstrip().startswith("#")]
    except OSError as exc:
        raise PipelineError("the admin key file %s cannot be read: %s." % (path, exc.strerror or exc))
    if not lines:
        raise PipelineError("the admin key file %s holds no public key; the image refuses passwords, so it needs one." % path)
    for number, line in enumerate(lines, 1):
        if not KEY_RE.match(line):
            raise PipelineError("line %d of %s is not an OpenSSH public key (ssh-ed25519 AAAA... comment)." % (number, path))
        if "vaultcube-build-key" in line:
            raise PipelineError("line %d of %s is a build key (comment vaultcube-build-key); the seal step would remove it." % (number, path))
    return lines


def render_user_data(template_text, admin_user, keys, hostname="vaultcube-demo-box"):
    if not re.match(r"^[a-z_][a-z0-9_-]*$", admin_user):
        raise PipelineError("admin user %r is not a valid Linux user name." % admin_user)
    key_lines = "\n".join("          - %s" % json.dumps(key) for key in keys)
    return string.Template(template_text).substitute(admin_user=admin_user, authorized_keys=key_lines, hostname=hostname)


def cmd_render_http(args):
    keys = read_keys(args.keys)
    with open(args.build_key, encoding="utf-8") as handle:
        build_key = handle.read().strip()
    with open(args.template, encoding="utf-8") as handle:
        text = render_user_data(handle.read(), args.admin_user, keys + [build_key], args.hostname)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "user-data"), "w", encoding="utf-8") as handle:
        handle.write(text)
    with open(os.path.join(args.out, "meta-data"), "w", encoding="utf-8") as handle:
        handle.write("instance-id: vaultcube-demo-box-build\nlocal-hostname: %s\n" % args.hostname)
    print("render-http: %s/user-data for %s with %d admin key(s) and the build key" % (args.out, args.admin_user, len(keys)))


# --- collection ----------------------------------------------------------------------------------

def cmd_collection(args):
    name = os.path.basename(args.tarball)
    match = re.match(r"^([a-z0-9_]+)-([a-z0-9_]+)-(\d+\.\d+\.\d+.*)\.tar\.gz$", name)
    if not match:
        raise PipelineError("%s is not named like a collection tarball (namespace-name-X.Y.Z.tar.gz)." % name)
    write_json(args.out, {
        "name": "%s.%s" % (match.group(1), match.group(2)),
        "version": match.group(3),
        "tarball": name,
        "sha256": sha256_file(args.tarball),
        "git_commit": args.commit,
        "git_dirty": bool(int(args.dirty)),
    })


# --- manifest ------------------------------------------------------------------------------------

def qemu_img_info(path):
    try:
        proc = subprocess.run(["qemu-img", "info", "--output=json", path], capture_output=True, text=True,
                              timeout=120, check=False)
    except (OSError, subprocess.SubprocessError):
        return {}
    if proc.returncode != 0:
        return {}
    try:
        return json.loads(proc.stdout)
    except ValueError:
        return {}


def parse_layers(text):
    layers = []
    for tag in [t.strip() for t in (text or "").split(",") if t.strip()]:
        match = re.match(r"^layer([1-4])$", tag)
        if not match:
            raise PipelineError("layer tag %r is not one of layer1..layer4." % tag)
        layers.append(int(match.group(1)))
    if layers != list(range(1, len(layers) + 1)):
        raise PipelineError("layers %s must run from layer1 up, in order." % text)
    return layers


def build_manifest(image, version, facts, collection, build_info, layers, info=None, sha256=None):
    """image-manifest.json: the image file, how it was built, and what the machine itself reported."""
    info = info if info is not None else qemu_img_info(image)
    software = {
        "docker": facts.get("docker"),
        "openssh_server": (facts.get("packages") or {}).get("openssh_server"),
        "python3": (facts.get("packages") or {}).get("python3"),
        "nvidia_driver": facts.get("nvidia_driver"),
        "cuda": facts.get("cuda"),
        "cudnn": facts.get("cudnn"),
        "nvidia_container_toolkit": facts.get("nvidia_container_toolkit"),
        "ai_venv": facts.get("ai_venv"),
    }
    venv = facts.get("ai_venv") or {}
    notes = []
    for layer, keys in sorted(LAYER_SOFTWARE.items()):
        for key in keys:
            if layer in layers and software.get(key) is None:
                notes.append("layer%d was built but the machine reports no %s." % (layer, key))
            if layer not in layers and software.get(key) is not None:
                notes.append("layer%d was not built but the machine has %s (from the base image)." % (layer, key))
    return {
        "schema": 1,
        "name": IMAGE_PREFIX.rstrip("-v"),
        "version": version,
        "image": {
            "file": os.path.basename(image),
            "format": info.get("format", "qcow2"),
            "sha256": sha256 or sha256_file(image),
            "size_bytes": os.path.getsize(image),
            "virtual_size_bytes": info.get("virtual-size"),
        },
        "build": dict(build_info, **{
            "date": build_info.get("date") or utcnow(),
            "git_commit": collection.get("git_commit"),
            "git_dirty": collection.get("git_dirty"),
            "collection": {k: collection.get(k) for k in ("name", "version", "tarball", "sha256")},
            "layers_built": layers,
        }),
        "os": facts.get("os"),
        "architecture": facts.get("architecture"),
        "kernel": facts.get("kernel"),
        "software": software,
        "frameworks": venv.get("frameworks") if venv else None,
        "admin": facts.get("admin"),
        "sshd": facts.get("sshd"),
        "facts_collected_at": facts.get("collected_at"),
        "notes": notes,
    }


def cmd_manifest(args):
    if not os.path.exists(args.image):
        raise PipelineError("the image %s does not exist; the build did not produce it." % args.image)
    layers = parse_layers(args.layers)
    facts = load_json(args.facts, "The image facts")
    collection = load_json(args.collection, "The collection record")
    build_info = load_json(args.build_info, "The build record") if args.build_info else {}
    manifest = build_manifest(args.image, args.version, facts, collection, build_info, layers)
    write_json(args.out, manifest)
    print("manifest: %s (sha256 %s, %d bytes)" % (args.out, manifest["image"]["sha256"], manifest["image"]["size_bytes"]))


# --- stages: times from the packer log ------------------------------------------------------------

STAGE_MARKERS = [
    (re.compile(r"Retrieving ISO|Retrieving Image|Downloading or copying"), "qemu: fetch/verify ISO or base image"),
    (re.compile(r"Creating (required virtual machine disks|hard drive)|Copying hard drive|Resizing hard drive"), "qemu: disk"),
    (re.compile(r"Starting VM, booting"), "qemu: boot"),
    (re.compile(r"Waiting for SSH to become available"), "qemu: boot and wait for SSH"),
    (re.compile(r"Connected to SSH!"), "connected"),
    (re.compile(r"vaultcube-stage: (.+)$"), None),
    (re.compile(r"Executing Ansible: .*seal\.yml"), "seal 1: sshd (seal.yml)"),
    (re.compile(r"Executing Ansible: .*?(--tags \S+(?: --skip-tags \S+)?)"), None),
    (re.compile(r"Gracefully halting virtual machine"), "shutdown"),
    (re.compile(r"Converting hard drive"), "qcow2 conversion/compaction"),
    (re.compile(r"Running post-processor"), "manifest (post-processor)"),
    (re.compile(r"Builds finished|Build '.*' finished"), "end"),
]
TS_RE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ): (.*)$")


def parse_stages(lines):
    """[(stage, seconds)] from `packer build -timestamp-ui` output: each stage runs until the next marker."""
    events, last = [], None
    for line in lines:
        match = TS_RE.match(line.rstrip("\n"))
        if not match:
            continue
        last = datetime.datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%SZ")
        text = match.group(2)
        for rx, name in STAGE_MARKERS:
            found = rx.search(text)
            if not found:
                continue
            if name is None:
                name = ("ansible " + found.group(1)) if "Executing Ansible" in text else found.group(1).strip()
            if not events or events[-1][0] != name:
                events.append((name, last))
            break
    stages = []
    for index, (name, start) in enumerate(events):
        end = events[index + 1][1] if index + 1 < len(events) else last
        if name not in ("end", "connected"):
            stages.append((name, int((end - start).total_seconds())))
    return stages


def merge_stage_names(stages):
    """Sums repeated names (e.g. two ansible passes with the same tags) keeping first-seen order."""
    merged = {}
    for name, seconds in stages:
        merged[name] = merged.get(name, 0) + seconds
    return list(merged.items())


def read_pre_stages(path):
    stages = []
    if path and os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                name, _sep, seconds = line.rstrip("\n").rpartition("\t")
                if name and seconds.isdigit():
                    stages.append((name, int(seconds)))
    return stages


def format_stages(stages):
    width = max([len(name) for name, _seconds in stages] + [5])
    out = ["{0:<{1}} {2:>7}".format("stage", width, "seconds")]
    out += ["{0:<{1}} {2:7d}".format(name, width, seconds) for name, seconds in stages]
    out.append("{0:<{1}} {2:7d}".format("total", width, sum(seconds for _name, seconds in stages)))
    return "\n".join(out)


def replace_packer_total(stages, packer):
    """build.sh times `packer build` as one stage; its breakdown from the log takes its place (not both: the total would count it twice)."""
    names = [name for name, _seconds in stages]
    found = [i for i, name in enumerate(names) if name.startswith("packer build")]
    if not found:
        return stages + packer
    i = found[0]
    return stages[:i] + packer + stages[i + 1:]


def cmd_stages(args):
    stages = read_pre_stages(args.pre)
    if args.log:
        with open(args.log, encoding="utf-8", errors="replace") as handle:
            packer = [("packer: " + n, s) for n, s in merge_stage_names(parse_stages(handle))]
        stages = replace_packer_total(stages, packer)
    stages += read_pre_stages(args.post)
    print(format_stages(stages))
    if args.manifest:
        manifest = load_json(args.manifest, "The manifest")
        manifest.setdefault("build", {})["stage_seconds"] = dict(stages)
        write_json(args.manifest, manifest)


# --- images: the store of versioned images ---------------------------------------------------------

def image_dir_name(version):
    return IMAGE_PREFIX + version


def store_versions(store):
    versions = []
    if os.path.isdir(store):
        for entry in os.listdir(store):
            if entry.startswith(IMAGE_PREFIX) and os.path.isdir(os.path.join(store, entry)) and not os.path.islink(os.path.join(store, entry)):
                version = entry[len(IMAGE_PREFIX):]
                if VERSION_RE.match(version):
                    versions.append(version)
    return sorted(versions, key=version_key, reverse=True)


def current_version(store):
    link = os.path.join(store, "current")
    if not os.path.islink(link):
        return None
    target = os.path.basename(os.readlink(link))
    return target[len(IMAGE_PREFIX):] if target.startswith(IMAGE_PREFIX) else None


def set_current(store, version):
    link = os.path.join(store, "current")
    tmp = link + ".new"
    if os.path.lexists(tmp):
        os.remove(tmp)
    os.symlink(image_dir_name(version), tmp)
    os.replace(tmp, link)


def log_history(store, action, version, detail=""):
    with open(os.path.join(store, "history.log"), "a", encoding="utf-8") as handle:
        handle.write("%s\t%s\t%s\t%s\n" % (utcnow(), action, version, detail))


def image_paths(store, version):
    folder = os.path.join(store, image_dir_name(version))
    return folder, os.path.join(folder, image_dir_name(version) + ".qcow2"), os.path.join(folder, "image-manifest.json")


def verify(store, version):
    folder, image, manifest_path = image_paths(store, version)
    if not os.path.isdir(folder):
        raise PipelineError("version %s is not in %s (kept: %s)." % (version, store, ", ".join(store_versions(store)) or "none"))
    manifest = load_json(manifest_path, "The manifest")
    if not os.path.exists(image):
        raise PipelineError("%s is missing." % image)
    actual = sha256_file(image)
    if actual != manifest["image"]["sha256"]:
        raise PipelineError("%s does not match its manifest (sha256 %s, manifest says %s): it changed since it was built."
                            % (image, actual, manifest["image"]["sha256"]))
    return manifest


def prune(store, keep):
    """Removes all but the newest `keep` versions; the current one is always kept."""
    if keep < 1:
        raise PipelineError("keep must be at least 1.")
    current = current_version(store)
    versions = store_versions(store)
    kept = versions[:keep]
    removed = []
    for version in versions[keep:]:
        if version == current:
            kept.append(version)  # older than the newest `keep`, but current (after a rollback)
            continue
        shutil.rmtree(os.path.join(store, image_dir_name(version)))
        log_history(store, "pruned", version, "keep %d" % keep)
        removed.append(version)
    return kept, removed


def add(store, source_dir, version, keep, extra_files=(), force=False):
    version_key(version)
    name = image_dir_name(version)
    image = os.path.join(source_dir, name + ".qcow2")
    manifest = os.path.join(source_dir, "image-manifest.json")
    for path in (image, manifest):
        if not os.path.exists(path):
            raise PipelineError("%s is missing; nothing to add to the store." % path)
    os.makedirs(store, exist_ok=True)
    folder = os.path.join(store, name)
    if os.path.exists(folder):
        if not force:
            raise PipelineError("version %s is already in %s; images are immutable: bump the version (IMAGE_VERSION) or set IMAGE_FORCE=1." % (version, store))
        shutil.rmtree(folder)
    os.makedirs(folder + ".partial", exist_ok=True)
    for path in [image, manifest] + [p for p in extra_files if os.path.exists(p)]:
        shutil.move(path, os.path.join(folder + ".partial", os.path.basename(path)))
    os.replace(folder + ".partial", folder)
    set_current(store, version)
    log_history(store, "added", version, "current")
    return prune(store, keep)


def rollback(store, version=None):
    current = current_version(store)
    versions = store_versions(store)
    if version is None:
        older = [v for v in versions if current is None or version_key(v) < version_key(current)]
        if not older:
            raise PipelineError("there is no version older than the current one (%s) to roll back to; kept: %s."
                                % (current, ", ".join(versions) or "none"))
        version = older[0]
    manifest = verify(store, version)
    set_current(store, version)
    log_history(store, "rollback", version, "from %s" % current)
    return current, version, manifest


def list_rows(store):
    current = current_version(store)
    rows = []
    for version in store_versions(store):
        _folder, image, manifest_path = image_paths(store, version)
        try:
            manifest = load_json(manifest_path, "The manifest")
        except PipelineError:
            manifest = {}
        image_meta = manifest.get("image") or {}
        rows.append({
            "version": version,
            "current": version == current,
            "date": (manifest.get("build") or {}).get("date"),
            "git_commit": ((manifest.get("build") or {}).get("git_commit") or "")[:12],
            "size_bytes": image_meta.get("size_bytes"),
            "sha256": (image_meta.get("sha256") or "")[:16],
            "image": image,
        })
    return rows


def cmd_images(args):
    store = args.store
    if args.action == "list":
        rows = list_rows(store)
        if not rows:
            print("no images in %s" % store)
            return
        for row in rows:
            size_mib = (row["size_bytes"] or 0) / 1048576.0
            print("%s %-10s %-20s %-12s %8.1f MiB  sha256 %s" % (
                "*" if row["current"] else " ", row["version"], row["date"], row["git_commit"], size_mib, row["sha256"]))
        print("(* = current: %s)" % os.path.join(store, "current"))
    elif args.action == "add":
        kept, removed = add(store, args.source, args.version, args.keep, args.extra or (), args.force)
        print("images: v%s stored as current; kept %s%s" % (args.version, ", ".join(kept),
                                                            "; pruned " + ", ".join(removed) if removed else ""))
    elif args.action == "prune":
        kept, removed = prune(store, args.keep)
        print("images: kept %s; pruned %s" % (", ".join(kept) or "none", ", ".join(removed) or "nothing"))
    elif args.action == "rollback":
        before, version, manifest = rollback(store, args.version)
        print("images: current is now v%s (was v%s); %s verified (sha256 %s)" % (
            version, before, manifest["image"]["file"], manifest["image"]["sha256"]))
    elif args.action == "verify":
        manifest = verify(store, args.version or current_version(store))
        print("images: %s matches its manifest (sha256 %s)" % (manifest["image"]["file"], manifest["image"]["sha256"]))


def parser():
    top = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = top.add_subparsers(dest="command")
    sub.required = True
    p = sub.add_parser("render-http")
    p.add_argument("--template", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--admin-user", required=True)
    p.add_argument("--keys", required=True)
    p.add_argument("--build-key", required=True)
    p.add_argument("--hostname", default="vaultcube-demo-box")
    p.set_defaults(func=cmd_render_http)
    p = sub.add_parser("collection")
    p.add_argument("--tarball", required=True)
    p.add_argument("--commit", required=True)
    p.add_argument("--dirty", default="0")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_collection)
    p = sub.add_parser("manifest")
    p.add_argument("--image", required=True)
    p.add_argument("--version", required=True)
    p.add_argument("--facts", required=True)
    p.add_argument("--collection", required=True)
    p.add_argument("--build-info")
    p.add_argument("--layers", required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_manifest)
    p = sub.add_parser("stages")
    p.add_argument("--log")
    p.add_argument("--pre")
    p.add_argument("--post")
    p.add_argument("--manifest")
    p.set_defaults(func=cmd_stages)
    p = sub.add_parser("images")
    p.add_argument("action", choices=["list", "add", "prune", "rollback", "verify"])
    p.add_argument("--store", required=True)
    p.add_argument("--version")
    p.add_argument("--source")
    p.add_argument("--keep", type=int, default=3)
    p.add_argument("--extra", nargs="*")
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=cmd_images)
    return top


def run_cli(top, argv=None, prefix=None):
    """Parses argv with the parser top and runs its subcommand: 0, or 1 with the PipelineError's
    sentence after the prefix (default: the subcommand's name). layer_cache.py shares it."""
    args = top.parse_args(argv)
    try:
        return args.func(args) or 0
    except PipelineError as exc:
        sys.stderr.write("%s: %s\n" % (prefix or args.command, exc))
        return 1


def main(argv=None):
    return run_cli(parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
