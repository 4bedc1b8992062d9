# -*- coding: utf-8 -*-
"""packer/scripts/pipeline.py: user-data rendering, the manifest, stage times, the image store."""
import hashlib
import json
import os
import subprocess
import sys

import pytest

SCRIPTS = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "packer", "scripts"))
sys.path.insert(0, SCRIPTS)
import pipeline  # noqa: E402

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ0TcGj2mcqVdpGRe7Jmnx4fhQ0nWb6WjrdLvf4dNRvT admin@lab"
BUILD_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK2ZkDkS7xRCUk1GOtf3yFpbSxYHwyF06+V3x2o9qGmP vaultcube-build-key"


def run_cli(*args):
    return subprocess.run([sys.executable, os.path.join(SCRIPTS, "pipeline.py")] + list(args), capture_output=True, text=True,
                          check=False, timeout=60)


# --- render-http -----------------------------------------------------------------------------------

def test_user_data_gets_the_admin_and_every_key_as_yaml(tmp_path):
    yaml = pytest.importorskip("yaml")
    keys = tmp_path / "keys.pub"
    keys.write_text("# the lab admins\n" + KEY + "\n\n")
    build = tmp_path / "build.pub"
    build.write_text(BUILD_KEY + "\n")
    template = os.path.join(SCRIPTS, "..", "http", "user-data.in")
    proc = run_cli("render-http", "--template", template, "--out", str(tmp_path / "http"), "--admin-user", "demo",
                   "--keys", str(keys), "--build-key", str(build))
    assert proc.returncode == 0, proc.stderr
    text = (tmp_path / "http" / "user-data").read_text()
    assert text.startswith("#cloud-config\n")
    doc = yaml.safe_load(text)["autoinstall"]
    user = doc["user-data"]["users"][0]
    assert user["name"] == "demo" and user["lock_passwd"] is True and user["sudo"] == "ALL=(ALL) NOPASSWD:ALL"
    assert user["ssh_authorized_keys"] == [KEY, BUILD_KEY]
    assert doc["ssh"] == {"install-server": True, "allow-pw": False}
    assert doc["storage"]["layout"] == {"name": "lvm", "sizing-policy": "all"}
    assert "identity" not in doc
    assert "instance-id:" in (tmp_path / "http" / "meta-data").read_text()


@pytest.mark.parametrize("content, sentence", [
    ("", "holds no public key"),
    ("# only a comment\n", "holds no public key"),
    ("not-a-key AAAA\n", "line 1 of"),
    (BUILD_KEY + "\n", "is a build key"),
])
def test_bad_admin_key_files_are_refused_with_one_sentence(tmp_path, content, sentence):
    keys = tmp_path / "keys.pub"
    keys.write_text(content)
    with pytest.raises(pipeline.PipelineError, match=sentence):
        pipeline.read_keys(str(keys))


def test_a_bad_user_name_is_refused():
    with pytest.raises(pipeline.PipelineError, match="not a valid Linux user name"):
        pipeline.render_user_data("${admin_user}", "Bad User", [KEY])


# --- collection, layers, manifest -------------------------------------------------------------------

def test_collection_record_names_the_tarball_commit_and_checksum(tmp_path):
    tarball = tmp_path / "vaultcube-demobox-0.1.0.tar.gz"
    tarball.write_bytes(b"tar bytes")
    out = tmp_path / "collection.json"
    proc = run_cli("collection", "--tarball", str(tarball), "--commit", "abc123", "--dirty", "1", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    assert data == {"name": "vaultcube.demobox", "version": "0.1.0", "tarball": tarball.name,
                    "sha256": hashlib.sha256(b"tar bytes").hexdigest(), "git_commit": "abc123", "git_dirty": True}


@pytest.mark.parametrize("text, layers", [("layer1", [1]), ("layer1,layer2,layer3", [1, 2, 3])])
def test_layers_parse_in_order(text, layers):
    assert pipeline.parse_layers(text) == layers


@pytest.mark.parametrize("text", ["layer2", "layer1,layer3", "layer5", "base"])
def test_layers_out_of_order_are_refused(text):
    with pytest.raises(pipeline.PipelineError):
        pipeline.parse_layers(text)


FACTS_LAYER1 = {
    "collected_at": "2026-11-29T10:00:00Z",
    "os": {"id": "debian", "version_id": "12", "pretty_name": "Debian GNU/Linux 12 (bookworm)"},
    "architecture": "x86_64",
    "kernel": {"running": "6.1.0-57-amd64", "installed": ["6.1.0-57-amd64"], "default": "6.1.0-57-amd64"},
    "packages": {"openssh_server": {"package": "openssh-server", "version": "1:9.2p1-2+deb12u7"},
                 "python3": {"package": "python3", "version": "3.11.2-1+b1"}},
    "docker": {"engine": "20.10.24+dfsg1", "package": "docker.io", "package_version": "20.10.24+dfsg1-1+deb12u1"},
    "nvidia_driver": None, "cuda": None, "cudnn": None, "nvidia_container_toolkit": None, "ai_venv": None,
    "admin": {"user": "vaultadmin", "authorized_keys": 1, "build_key_present": False},
    "sshd": {"passwordauthentication": "no"},
}


def test_manifest_of_a_layer1_image_reports_what_the_machine_said_and_null_for_later_layers(tmp_path):
    image = tmp_path / "vault-cube-demo-box-v0.1.0.qcow2"
    image.write_bytes(b"qcow2 bytes")
    collection = {"name": "vaultcube.demobox", "version": "0.1.0", "tarball": "t.tar.gz", "sha256": "ff", "git_commit": "abc", "git_dirty": False}
    manifest = pipeline.build_manifest(str(image), "0.1.0", FACTS_LAYER1, collection,
                                       {"packer_version": "1.6.6", "ansible_core_version": "2.21.5", "date": "2026-11-29T10:05:00Z"},
                                       [1], info={"format": "qcow2", "virtual-size": 8589934592})
    assert manifest["image"] == {"file": image.name, "format": "qcow2", "sha256": hashlib.sha256(b"qcow2 bytes").hexdigest(),
                                 "size_bytes": 11, "virtual_size_bytes": 8589934592}
    assert manifest["build"]["git_commit"] == "abc" and manifest["build"]["layers_built"] == [1]
    assert manifest["build"]["packer_version"] == "1.6.6" and manifest["build"]["ansible_core_version"] == "2.21.5"
    assert manifest["os"]["version_id"] == "12" and manifest["kernel"]["running"] == "6.1.0-57-amd64"
    software = manifest["software"]
    assert software["docker"]["engine"] == "20.10.24+dfsg1"
    assert software["nvidia_driver"] is None and software["cuda"] is None and software["ai_venv"] is None
    assert manifest["frameworks"] is None
    assert manifest["notes"] == []


def test_manifest_notes_a_built_layer_the_machine_does_not_show(tmp_path):
    image = tmp_path / "x.qcow2"
    image.write_bytes(b"x")
    manifest = pipeline.build_manifest(str(image), "0.1.0", FACTS_LAYER1, {}, {}, [1, 2], info={})
    assert manifest["software"]["nvidia_driver"] is None  # never filled in from the build settings
    assert "layer2 was built but the machine reports no nvidia_driver." in manifest["notes"]


def test_manifest_cli_refuses_a_missing_image(tmp_path):
    proc = run_cli("manifest", "--image", str(tmp_path / "none.qcow2"), "--version", "0.1.0", "--facts", "f", "--collection", "c",
                   "--layers", "layer1", "--out", str(tmp_path / "m.json"))
    assert proc.returncode == 1
    assert proc.stderr.strip() == "manifest: the image %s does not exist; the build did not produce it." % (tmp_path / "none.qcow2")


# --- stage times ------------------------------------------------------------------------------------

PACKER_LOG = """\
2026-11-29T10:00:00Z: qemu.debian-base: output will be in this color.
2026-11-29T10:00:01Z: ==> qemu.debian-base: Retrieving ISO
2026-11-29T10:00:03Z: ==> qemu.debian-base: Copying hard drive...
2026-11-29T10:00:30Z: ==> qemu.debian-base: Starting VM, booting disk image
2026-11-29T10:00:31Z: ==> qemu.debian-base: Waiting for SSH to become available...
2026-11-29T10:01:31Z: ==> qemu.debian-base: Connected to SSH!
2026-11-29T10:01:32Z: ==> qemu.debian-base: Provisioning with shell script: /tmp/x
2026-11-29T10:01:32Z:     qemu.debian-base: vaultcube-stage: prepare
2026-11-29T10:01:40Z: ==> qemu.debian-base: Provisioning with Ansible...
2026-11-29T10:01:41Z: ==> qemu.debian-base: Executing Ansible: ansible-playbook -e packer_build_name="debian-base" --tags layer1 -e {...}
2026-11-29T10:11:41Z:     qemu.debian-base: vaultcube-stage: reboot (not needed)
2026-11-29T10:11:45Z:     qemu.debian-base: vaultcube-stage: up again
2026-11-29T10:11:50Z: ==> qemu.debian-base: Executing Ansible: ansible-playbook --tags none -e {...}
2026-11-29T10:12:00Z: ==> qemu.debian-base: Executing Ansible: ansible-playbook --tags layer1 --skip-tags base,docker
2026-11-29T10:14:00Z:     qemu.debian-base: vaultcube-stage: seal (keys)
2026-11-29T10:14:10Z:     qemu.debian-base: vaultcube-stage: image facts
2026-11-29T10:14:20Z:     qemu.debian-base: vaultcube-stage: seal (identity)
2026-11-29T10:14:40Z: ==> qemu.debian-base: Gracefully halting virtual machine...
2026-11-29T10:15:00Z: ==> qemu.debian-base: Converting hard drive...
2026-11-29T10:16:00Z: ==> qemu.debian-base: Running post-processor:  (type shell-local)
2026-11-29T10:16:02Z: Build 'qemu.debian-base' finished.
"""


def test_stage_times_come_from_the_timestamped_packer_log():
    stages = dict(pipeline.parse_stages(PACKER_LOG.splitlines(True)))
    assert stages["qemu: disk"] == 27
    assert stages["qemu: boot"] == 1 and stages["qemu: boot and wait for SSH"] == 60
    assert stages["prepare"] == 9  # from its marker to the next one (the first ansible pass)
    assert stages["ansible --tags layer1"] == 600
    assert stages["ansible --tags layer1 --skip-tags base,docker"] == 120  # the sealing pass
    assert stages["ansible --tags none"] == 10
    assert stages["image facts"] == 10 and stages["seal (identity)"] == 20
    assert stages["shutdown"] == 20 and stages["qcow2 conversion/compaction"] == 60
    assert stages["manifest (post-processor)"] == 2
    assert "connected" not in stages and "end" not in stages


def test_stages_are_added_to_the_manifest(tmp_path):
    log = tmp_path / "packer.log"
    log.write_text(PACKER_LOG)
    pre = tmp_path / "pre.tsv"
    pre.write_text("preflight\t1\ncollection (git archive HEAD -> tarball)\t4\n")
    manifest = tmp_path / "m.json"
    manifest.write_text(json.dumps({"build": {"git_commit": "abc"}}))
    proc = run_cli("stages", "--pre", str(pre), "--log", str(log), "--manifest", str(manifest))
    assert proc.returncode == 0, proc.stderr
    seconds = json.loads(manifest.read_text())["build"]["stage_seconds"]
    assert seconds["preflight"] == 1 and seconds["packer: qemu: boot and wait for SSH"] == 60
    assert proc.stdout.splitlines()[-1].split()[-1] == str(sum(seconds.values()))


# --- the image store --------------------------------------------------------------------------------

def fake_build(tmp_path, version):
    out = tmp_path / ("out-" + version)
    out.mkdir()
    image = out / ("vault-cube-demo-box-v%s.qcow2" % version)
    image.write_bytes(("image " + version).encode())
    (out / "image-manifest.json").write_text(json.dumps({
        "image": {"file": image.name, "sha256": hashlib.sha256(image.read_bytes()).hexdigest(), "size_bytes": image.stat().st_size},
        "build": {"date": "2026-11-29T10:00:00Z", "git_commit": "c0ffee" + version}}))
    (out / "second-boot.json").write_text("{}")
    return out


def test_store_keeps_the_last_three_versions_and_the_newest_is_current(tmp_path):
    store = str(tmp_path / "store")
    for version in ["0.1.0", "0.2.0", "0.10.0", "0.3.0"]:
        pipeline.add(store, str(fake_build(tmp_path, version)), version, keep=3, extra_files=[str(tmp_path / ("out-" + version) / "second-boot.json")])
    assert pipeline.store_versions(store) == ["0.10.0", "0.3.0", "0.2.0"]  # numeric order, not text order
    assert pipeline.current_version(store) == "0.3.0"  # the last one added
    assert os.path.exists(os.path.join(store, "vault-cube-demo-box-v0.3.0", "second-boot.json"))
    history = open(os.path.join(store, "history.log")).read()
    assert "\tpruned\t0.1.0\t" in history


def test_an_existing_version_is_refused_unless_forced(tmp_path):
    store = str(tmp_path / "store")
    pipeline.add(store, str(fake_build(tmp_path, "0.1.0")), "0.1.0", keep=3)
    (tmp_path / "again").mkdir()
    out = fake_build(tmp_path / "again", "0.1.0")
    with pytest.raises(pipeline.PipelineError, match="already in"):
        pipeline.add(store, str(out), "0.1.0", keep=3)
    pipeline.add(store, str(out), "0.1.0", keep=3, force=True)
    assert pipeline.store_versions(store) == ["0.1.0"]


def test_rollback_goes_to_the_previous_version_and_checks_it(tmp_path):
    store = str(tmp_path / "store")
    for version in ["1.0.0", "1.1.0", "1.2.0"]:
        pipeline.add(store, str(fake_build(tmp_path, version)), version, keep=3)
    before, now, manifest = pipeline.rollback(store)
    assert (before, now) == ("1.2.0", "1.1.0")
    assert pipeline.current_version(store) == "1.1.0"
    assert manifest["image"]["file"] == "vault-cube-demo-box-v1.1.0.qcow2"
    # The current version is never pruned, even when it is the oldest.
    pipeline.rollback(store, "1.0.0")
    kept, removed = pipeline.prune(store, 1)
    assert removed == ["1.1.0"] and pipeline.store_versions(store) == ["1.2.0", "1.0.0"]
    assert kept == ["1.2.0", "1.0.0"]  # what it says it kept includes the current version


def test_rollback_refuses_an_image_that_changed(tmp_path):
    store = str(tmp_path / "store")
    for version in ["1.0.0", "1.1.0"]:
        pipeline.add(store, str(fake_build(tmp_path, version)), version, keep=3)
    with open(os.path.join(store, "vault-cube-demo-box-v1.0.0", "vault-cube-demo-box-v1.0.0.qcow2"), "ab") as handle:
        handle.write(b"tampered")
    with pytest.raises(pipeline.PipelineError, match="does not match its manifest"):
        pipeline.rollback(store)
    assert pipeline.current_version(store) == "1.1.0"


def test_rollback_with_nothing_older_says_so(tmp_path):
    store = str(tmp_path / "store")
    pipeline.add(store, str(fake_build(tmp_path, "1.0.0")), "1.0.0", keep=3)
    proc = run_cli("images", "rollback", "--store", store)
    assert proc.returncode == 1
    assert "no version older than the current one (1.0.0)" in proc.stderr


def test_images_list_marks_the_current_version(tmp_path):
    store = str(tmp_path / "store")
    for version in ["1.0.0", "1.1.0"]:
        pipeline.add(store, str(fake_build(tmp_path, version)), version, keep=3)
    proc = run_cli("images", "list", "--store", store)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("* 1.1.0") and lines[1].startswith("  1.0.0")


def test_packer_total_is_replaced_by_its_breakdown_not_counted_twice():
    pre = [("preflight", 5), ("packer build", 100), ("after", 1)]
    packer = [("packer: boot", 40), ("packer: ansible --tags layer1", 60)]
    merged = pipeline.replace_packer_total(pre, packer)
    assert merged == [("preflight", 5), ("packer: boot", 40), ("packer: ansible --tags layer1", 60), ("after", 1)]
    assert pipeline.replace_packer_total([("preflight", 5)], packer) == [("preflight", 5)] + packer
    # The layered build names its sealing run "packer build (seal)": its breakdown takes that place.
    layered = [("layer base (built)", 900), ("packer build (seal)", 120), ("store", 1)]
    assert pipeline.replace_packer_total(layered, packer) == [("layer base (built)", 900)] + packer + [("store", 1)]


def test_the_sealing_pass_has_a_stage_of_its_own():
    log = [
        "2026-12-04T15:37:37Z: ==> qemu.seal: Waiting for SSH to become available...\n",
        "2026-12-04T15:38:08Z:     qemu.seal: vaultcube-stage: prepare\n",
        "2026-12-04T15:38:16Z: ==> qemu.seal: Executing Ansible: ansible-playbook -e packer_build_name=\"seal\" -e {...} packer/ansible/seal.yml\n",
        "2026-12-04T15:39:14Z:     qemu.seal: vaultcube-stage: build mode off\n",
        "2026-12-04T15:39:15Z: Build 'qemu.seal' finished after 2 minutes 1 second.\n",
    ]
    assert pipeline.parse_stages(log) == [("qemu: boot and wait for SSH", 31), ("prepare", 8),
                                          ("seal 1: sshd (seal.yml)", 58), ("build mode off", 1)]
