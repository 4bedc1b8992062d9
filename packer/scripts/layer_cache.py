# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The golden image's layer cache (packer/build.sh): a disk snapshot after every role step.

    python3 layer_cache.py plan --cache DIR --collection C --packer-dir packer --roles base,security,... \
        --parent-key K --vars-file V [--no-cache] --out plan.json
    python3 layer_cache.py put --cache DIR --plan plan.json --step N --image X.qcow2 --seconds S
    python3 layer_cache.py prune --cache DIR --keep N [--max-gib G] [--plan plan.json]
    python3 layer_cache.py record --plan plan.json --manifest image-manifest.json

A build is a chain of steps, one per role of vaultcube.demobox.site in site order (base, security,
hardening, docker, then the later layers' roles), each a Packer run that boots the previous step's
disk, runs that role's tag and shuts down. The disk after each step is kept in the cache under a key:
the sha256 of the parent's key, the step's role, the files that role and the site playbook run (its
role directory, playbooks/site.yml, the collection's plugins and meta), the provisioning files
(the Packer template less its sealing parts, prepare.sh, build-mode.sh, ansible.cfg) and the
variables the pass gets. The
first step's parent key is the base disk's sha256 (or the Ubuntu install's key). A rebuild starts
from the deepest snapshot whose key still matches and whose file is whole (qemu-img check, size and
sha256 as recorded); a damaged one is reported in one line and the one below is tried.

Snapshots are whole qcow2 copies, not overlays: a damaged snapshot then never takes its children
with it, and pruning needs no dependency graph (a stored image is a converted, standalone qcow2 and
needs none of them). Standard library only (the host's python3 runs it).
"""
import argparse
import hashlib
import json
import os
import re
import subprocess
import sys

# The pipeline's own helpers (same folder: build.sh runs both scripts from packer/scripts).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pipeline import PipelineError, load_json, run_cli, sha256_file, utcnow, write_json  # noqa: E402

# Site order: (role tag, layer). A step runs `--tags layerN --skip-tags <the layer's other roles>`.
SITE_ROLES = [
    ("base", 1), ("security", 1), ("hardening", 1), ("docker", 1),
    ("nvidia_driver", 2), ("cuda", 2),
    ("nvidia_container_toolkit", 3),
    ("ai_frameworks", 4), ("monitoring", 4),
]
ROLE_LAYER = dict(SITE_ROLES)
# Collection files every step depends on besides its role (relative to the installed collection).
COMMON_PATHS = ["playbooks/site.yml", "plugins", "meta"]
# Provisioning files every step depends on (relative to packer/).
PACKER_PATHS = ["demobox.pkr.hcl", "scripts/prepare.sh", "scripts/build-mode.sh", "ansible/ansible.cfg"]
SNAPSHOT_RE = re.compile(r"^(?P<role>[a-z_]+)-(?P<key>[0-9a-f]{16})\.qcow2$")


class CacheError(PipelineError):
    """One sentence for the user; build.sh prints it and stops."""


def step_template_text(text):
    """The template without the sealing parts (source qemu.seal and the build that uses it): a
    change to how an image is sealed must not throw away the layer snapshots below it."""
    kept, block, depth = [], [], 0
    for line in text.splitlines(True):
        if depth == 0 and not block and not re.match(r"^[a-z]", line):
            kept.append(line)
            continue
        block.append(line)
        depth += line.count("{") - line.count("}")
        if depth <= 0:
            body = "".join(block)
            if not (body.startswith('source "qemu" "seal"') or "source.qemu.seal" in body):
                kept.append(body)
            block, depth = [], 0
    return "".join(kept + block)


def tree_digest(root, rel_paths):
    """{relative path: sha256} of every file under each of rel_paths (files or folders) in root."""
    files = {}
    for rel in rel_paths:
        top = os.path.join(root, rel)
        if os.path.isfile(top) and rel.endswith(".pkr.hcl"):
            with open(top, encoding="utf-8") as handle:
                files[rel] = hashlib.sha256(step_template_text(handle.read()).encode()).hexdigest()
            continue
        if os.path.isfile(top):
            files[rel] = sha256_file(top)
            continue
        if not os.path.isdir(top):
            files[rel] = None  # absent: part of the key too (it may appear later)
            continue
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            for name in sorted(filenames):
                if name.endswith(".pyc"):
                    continue
                path = os.path.join(dirpath, name)
                files[os.path.relpath(path, root)] = sha256_file(path)
    return files


def parse_roles(text):
    """The roles to build, validated: known site roles, each once, in site order."""
    roles = [r.strip() for r in (text or "").split(",") if r.strip()]
    if not roles:
        raise CacheError("no roles to build: IMAGE_LAYERS or IMAGE_ROLES selects none.")
    unknown = [r for r in roles if r not in ROLE_LAYER]
    if unknown:
        raise CacheError("IMAGE_ROLES: %s %s not a role of vaultcube.demobox.site (%s)." % (
            ", ".join(unknown), "is" if len(unknown) == 1 else "are", ", ".join(r for r, _l in SITE_ROLES)))
    order = [r for r, _l in SITE_ROLES]
    if len(set(roles)) != len(roles) or roles != sorted(roles, key=order.index):
        raise CacheError("IMAGE_ROLES %s must name each role once, in site order (%s)." % (
            ",".join(roles), ", ".join(r for r, _l in SITE_ROLES)))
    return roles


def roles_for_layers(layers_text, extra_text=""):
    """IMAGE_LAYERS (layer1[,layer2...]) plus IMAGE_EXTRA_ROLES: the site roles in order."""
    layers = []
    for tag in [t.strip() for t in (layers_text or "").split(",") if t.strip()]:
        match = re.match(r"^layer([1-4])$", tag)
        if not match:
            raise CacheError("IMAGE_LAYERS: %r is not one of layer1..layer4." % tag)
        layers.append(int(match.group(1)))
    if layers != list(range(1, len(layers) + 1)):
        raise CacheError("IMAGE_LAYERS %s must run from layer1 up, in order." % layers_text)
    roles = [r for r, layer in SITE_ROLES if layer in layers]
    extra = [r.strip() for r in (extra_text or "").split(",") if r.strip()]
    for role in extra:
        if role not in ROLE_LAYER:
            parse_roles(role)  # raises the sentence naming the allowed roles
        if ROLE_LAYER[role] in layers:
            raise CacheError("IMAGE_EXTRA_ROLES: %s is part of layer%d, which IMAGE_LAYERS already builds." % (role, ROLE_LAYER[role]))
    return parse_roles(",".join(roles + extra))


def step_arguments(role):
    """The site pass of one step: its tags, skip-tags and vaultcube_site_layers."""
    layer = ROLE_LAYER[role]
    others = [r for r, lay in SITE_ROLES if lay == layer and r != role]
    return {"tags": "layer%d" % layer, "skip_tags": ",".join(others) or "none", "layers": [layer]}


def step_keys(parent_key, roles, collection_dir, packer_dir, variables):
    """[(role, key, inputs)] for the chain: each key covers its parent's, so a change reaches every later step."""
    common = tree_digest(collection_dir, COMMON_PATHS)
    packer = tree_digest(packer_dir, PACKER_PATHS)
    steps, parent = [], parent_key
    for role in roles:
        inputs = {
            "parent": parent,
            "role": role,
            "arguments": step_arguments(role),
            "role_files": tree_digest(collection_dir, ["roles/" + role]),
            "common_files": common,
            "packer_files": packer,
            "variables": variables,
        }
        key = hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()
        steps.append((role, key, inputs))
        parent = key
    return steps


def qemu_check(path):
    """None when `qemu-img check` finds the qcow2 whole, else its last line."""
    proc = subprocess.run(["qemu-img", "check", "-q", path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, check=False)
    if proc.returncode == 0:
        return None
    return (proc.stdout.strip().splitlines() or ["exit %d" % proc.returncode])[-1]


def snapshot_paths(cache, role, key):
    base = os.path.join(cache, "%s-%s" % (role, key[:16]))
    return base + ".qcow2", base + ".json"


def check_snapshot(cache, role, key, deep=True):
    """None when the snapshot is there and whole, else the reason in a few words."""
    image, meta_path = snapshot_paths(cache, role, key)
    if not os.path.exists(image) and not os.path.exists(meta_path):
        return "missing"
    try:
        with open(meta_path, encoding="utf-8") as handle:
            meta = json.load(handle)
    except (OSError, ValueError):
        return "its record %s is missing or unreadable" % os.path.basename(meta_path)
    if meta.get("key") != key:
        return "its record names another key"
    if not os.path.exists(image):
        return "its disk %s is missing" % os.path.basename(image)
    if os.path.getsize(image) != meta.get("size_bytes"):
        return "its disk is %d bytes, the record says %s" % (os.path.getsize(image), meta.get("size_bytes"))
    problem = qemu_check(image)
    if problem:
        return "qemu-img check failed: %s" % problem
    if deep and sha256_file(image) != meta.get("sha256"):
        return "its sha256 differs from its record"
    return None


def plan(cache, steps, no_cache=False, log=print):
    """The deepest whole snapshot whose key matches: [{role, key, cached, image}] and the start index."""
    rows = [{"role": role, "key": key, "layer": ROLE_LAYER[role], "arguments": step_arguments(role), "cached": False,
             "image": snapshot_paths(cache, role, key)[0]} for role, key, _inputs in steps]
    start = 0
    if no_cache:
        log("layer cache: off (--no-cache): every step is built and stored anew.")
        return rows, start
    for index in range(len(rows) - 1, -1, -1):
        row = rows[index]
        reason = check_snapshot(cache, row["role"], row["key"])
        if reason is None:
            start = index + 1
            break
        if reason != "missing":
            below = rows[index - 1]["role"] if index else "the base disk"
            log("layer cache: the snapshot after %s (key %s) cannot be used: %s; trying the one below (%s)."
                % (row["role"], row["key"][:16], reason, below))
    for row in rows[:start]:
        row["cached"] = True
    return rows, start


def cmd_plan(args):
    roles = parse_roles(args.roles)
    variables = load_json(args.vars_file, "The build variables") if args.vars_file else {}
    steps = step_keys(args.parent_key, roles, args.collection, args.packer_dir, variables)
    os.makedirs(args.cache, exist_ok=True)
    rows, start = plan(args.cache, steps, args.no_cache)
    for index, row in enumerate(rows):
        row["parent_image"] = args.parent_image if index == 0 else rows[index - 1]["image"]
    data = {"cache": os.path.abspath(args.cache), "parent_key": args.parent_key, "start": start, "steps": rows,
            "no_cache": args.no_cache}
    write_json(args.out, data)
    for row in rows:
        state = "from the cache" if row["cached"] else "to build"
        print("  %-26s key %s  %s" % (row["role"], row["key"][:16], state))
    if start == len(rows):
        print("layer cache: every step matches a snapshot; only sealing and the second boot run.")
    elif start:
        print("layer cache: starting after %s; %d of %d steps to build." % (rows[start - 1]["role"], len(rows) - start, len(rows)))
    else:
        print("layer cache: no usable snapshot; building all %d steps from the base." % len(rows))


def store(cache, role, key, layer, parent_key, disk, seconds):
    """Moves a finished disk into the cache under its key, with its record (size, sha256)."""
    image, meta_path = snapshot_paths(cache, role, key)
    if not os.path.exists(disk):
        raise CacheError("the step %s left no disk at %s; nothing to cache." % (role, disk))
    problem = qemu_check(disk)
    if problem:
        raise CacheError("the disk after %s (%s) fails qemu-img check (%s); not cached." % (role, disk, problem))
    os.makedirs(cache, exist_ok=True)
    os.replace(disk, image + ".tmp")
    meta = {"key": key, "role": role, "layer": layer, "parent_key": parent_key,
            "created": utcnow(), "seconds": seconds, "size_bytes": os.path.getsize(image + ".tmp"),
            "sha256": sha256_file(image + ".tmp")}
    os.replace(image + ".tmp", image)
    write_json(meta_path, meta)
    print("layer cache: stored the disk after %s as %s (%.1f GiB)" % (role, os.path.basename(image), meta["size_bytes"] / 2 ** 30))
    return image


def cmd_put(args):
    data = load_json(args.plan, "The layer plan")
    row = data["steps"][args.step]
    parent_key = data["steps"][args.step - 1]["key"] if args.step else data["parent_key"]
    store(data["cache"], row["role"], row["key"], row["layer"], parent_key, args.image, args.seconds)


def cmd_first(args):
    """The first disk of a chain that is not a base disk (the Ubuntu install): its cached copy's
    path when it is whole, else (exit 3) where to build it; with --disk, store a finished one."""
    digest = hashlib.sha256()
    for path in args.inputs:
        with open(path, "rb") as handle:
            digest.update(handle.read())
    key = digest.hexdigest()
    image = snapshot_paths(args.cache, "install", key)[0]
    if args.disk:
        store(args.cache, "install", key, 0, None, args.disk, args.seconds)
    elif args.no_cache or check_snapshot(args.cache, "install", key) is not None:
        print("%s %s" % (key, image))
        return 3
    print("%s %s" % (key, image))
    return 0


def snapshots(cache):
    found = []
    for name in sorted(os.listdir(cache)) if os.path.isdir(cache) else []:
        match = SNAPSHOT_RE.match(name)
        if not match:
            continue
        path = os.path.join(cache, name)
        meta_path = path[:-len(".qcow2")] + ".json"
        try:
            with open(meta_path, encoding="utf-8") as handle:
                created = json.load(handle).get("created", "")
        except (OSError, ValueError):
            created = ""
        found.append({"role": match.group("role"), "key16": match.group("key"), "path": path, "meta": meta_path,
                      "created": created, "size": os.path.getsize(path)})
    return found


def prune(cache, keep, max_bytes=None, protect=()):
    """Removes all but the newest `keep` snapshots of each role, then the oldest until under max_bytes.

    Snapshots of the build in progress (protect: key16 values) are never removed."""
    removed, kept = [], []
    by_role = {}
    for snap in snapshots(cache):
        by_role.setdefault(snap["role"], []).append(snap)
    for role_snaps in by_role.values():
        role_snaps.sort(key=lambda s: s["created"], reverse=True)
        for index, snap in enumerate(role_snaps):
            (kept if index < keep or snap["key16"] in protect else removed).append(snap)
    if max_bytes is not None:
        kept.sort(key=lambda s: s["created"])
        while sum(s["size"] for s in kept) > max_bytes:
            candidates = [s for s in kept if s["key16"] not in protect]
            if not candidates:
                break
            kept.remove(candidates[0])
            removed.append(candidates[0])
    for snap in removed:
        for path in (snap["path"], snap["meta"]):
            if os.path.exists(path):
                os.remove(path)
    return removed, kept


def cmd_prune(args):
    protect = ()
    if args.plan:
        protect = tuple(row["key"][:16] for row in load_json(args.plan, "The layer plan")["steps"])
    max_bytes = int(args.max_gib * 2 ** 30) if args.max_gib else None
    removed, kept = prune(args.cache, args.keep, max_bytes, protect)
    print("layer cache: %d snapshot(s) kept (%.1f GiB), %d removed%s" % (
        len(kept), sum(s["size"] for s in kept) / 2 ** 30, len(removed),
        (": " + ", ".join(os.path.basename(s["path"]) for s in removed)) if removed else ""))


def cmd_record(args):
    data = load_json(args.plan, "The layer plan")
    manifest = load_json(args.manifest, "The manifest")
    manifest.setdefault("build", {})["layer_cache"] = {
        "no_cache": data.get("no_cache", False),
        "parent_key": data["parent_key"],
        "steps": [{"role": row["role"], "layer": row["layer"], "key": row["key"], "from_cache": row["cached"]}
                  for row in data["steps"]],
    }
    manifest["build"]["roles_built"] = [row["role"] for row in data["steps"]]
    write_json(args.manifest, manifest)


def positive_int(text):
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError("must be a whole number of 1 or more, not %r" % text)
    return int(text)


def cmd_roles(args):
    print(",".join(roles_for_layers(args.layers, args.extra)))


def parser():
    top = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = top.add_subparsers(dest="command")
    sub.required = True
    p = sub.add_parser("roles")
    p.add_argument("--layers", default="layer1")
    p.add_argument("--extra", default="")
    p.set_defaults(func=cmd_roles)
    p = sub.add_parser("plan")
    p.add_argument("--cache", required=True)
    p.add_argument("--collection", required=True, help="the installed collection (ansible_collections/vaultcube/demobox)")
    p.add_argument("--packer-dir", required=True)
    p.add_argument("--roles", required=True)
    p.add_argument("--parent-key", required=True)
    p.add_argument("--parent-image", required=True)
    p.add_argument("--vars-file")
    p.add_argument("--no-cache", action="store_true")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_plan)
    p = sub.add_parser("put")
    p.add_argument("--plan", required=True)
    p.add_argument("--step", type=int, required=True)
    p.add_argument("--image", required=True)
    p.add_argument("--seconds", type=int, default=0)
    p.set_defaults(func=cmd_put)
    p = sub.add_parser("first")
    p.add_argument("--cache", required=True)
    p.add_argument("--inputs", nargs="+", required=True, help="the files the first disk is made from")
    p.add_argument("--disk", help="a finished first disk to store")
    p.add_argument("--seconds", type=int, default=0)
    p.add_argument("--no-cache", action="store_true")
    p.set_defaults(func=cmd_first)
    p = sub.add_parser("prune")
    p.add_argument("--cache", required=True)
    p.add_argument("--keep", type=positive_int, default=2)
    p.add_argument("--max-gib", type=float)
    p.add_argument("--plan")
    p.set_defaults(func=cmd_prune)
    p = sub.add_parser("record")
    p.add_argument("--plan", required=True)
    p.add_argument("--manifest", required=True)
    p.set_defaults(func=cmd_record)
    return top


def main(argv=None):
    return run_cli(parser(), argv, prefix="layer cache")


if __name__ == "__main__":
    sys.exit(main())
