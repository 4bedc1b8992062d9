# -*- coding: utf-8 -*-
"""packer/scripts/layer_cache.py: step keys, the deepest usable snapshot, damaged snapshots, pruning."""
import json
import os
import subprocess
import sys

import pytest

SCRIPTS = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "packer", "scripts"))
sys.path.insert(0, SCRIPTS)
import layer_cache  # noqa: E402

LAYER1 = ["base", "security", "hardening", "docker"]


def run_cli(*args):
    return subprocess.run([sys.executable, os.path.join(SCRIPTS, "layer_cache.py")] + list(args), capture_output=True,
                          text=True, check=False, timeout=60)


@pytest.fixture
def tree(tmp_path):
    """A collection and a packer folder with the files the keys are made of."""
    coll = tmp_path / "coll"
    for role in LAYER1 + ["monitoring"]:
        (coll / "roles" / role / "tasks").mkdir(parents=True)
        (coll / "roles" / role / "tasks" / "main.yml").write_text("- name: %s\n" % role)
    (coll / "playbooks").mkdir()
    (coll / "playbooks" / "site.yml").write_text("- hosts: all\n")
    (coll / "plugins" / "modules").mkdir(parents=True)
    (coll / "plugins" / "modules" / "m.py").write_text("x = 1\n")
    (coll / "plugins" / "modules" / "__pycache__").mkdir()
    (coll / "plugins" / "modules" / "__pycache__" / "m.cpython-312.pyc").write_bytes(b"junk")
    packer = tmp_path / "packer"
    (packer / "scripts").mkdir(parents=True)
    (packer / "ansible").mkdir()
    for rel in layer_cache.PACKER_PATHS:
        (packer / rel).write_text(rel + "\n")
    return coll, packer


def keys(tree, roles=None, parent="sha256:base", variables=None):
    coll, packer = tree
    roles = roles or LAYER1
    return [key for _role, key, _inputs in layer_cache.step_keys(parent, roles, str(coll), str(packer), variables or {"admin": "a"})]


# --- which roles, with which tags -------------------------------------------------------------------

def test_layer1_is_its_four_roles_in_site_order_and_extra_roles_follow():
    assert layer_cache.roles_for_layers("layer1") == LAYER1
    assert layer_cache.roles_for_layers("layer1", "monitoring") == LAYER1 + ["monitoring"]
    assert layer_cache.roles_for_layers("layer1,layer2") == LAYER1 + ["nvidia_driver", "cuda"]


@pytest.mark.parametrize("layers, extra, words", [
    ("layer2", "", "must run from layer1 up"),
    ("layer1,layer3", "", "must run from layer1 up"),
    ("layer5", "", "is not one of layer1..layer4"),
    ("layer1", "docker", "docker is part of layer1, which IMAGE_LAYERS already builds"),
    ("layer1", "grafana", "grafana is not a role of vaultcube.demobox.site"),
    ("layer1", "monitoring,ai_frameworks", "in site order"),
])
def test_a_wrong_selection_is_refused_in_one_sentence(layers, extra, words):
    with pytest.raises(layer_cache.CacheError, match=words.replace(".", r"\.")):
        layer_cache.roles_for_layers(layers, extra)


def test_the_roles_cli_exits_1_with_the_sentence():
    proc = run_cli("roles", "--layers", "layer1", "--extra", "grafana")
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "grafana is not a role" in proc.stderr


def test_a_step_runs_its_layer_tag_and_skips_the_layers_other_roles():
    assert layer_cache.step_arguments("docker") == {"tags": "layer1", "skip_tags": "base,security,hardening", "layers": [1]}
    assert layer_cache.step_arguments("monitoring") == {"tags": "layer4", "skip_tags": "ai_frameworks", "layers": [4]}
    assert layer_cache.step_arguments("nvidia_container_toolkit") == {"tags": "layer3", "skip_tags": "none", "layers": [3]}


# --- keys -------------------------------------------------------------------------------------------

def test_keys_are_stable_and_chained(tree):
    first = keys(tree)
    assert first == keys(tree) and len(set(first)) == 4


def test_a_change_to_one_role_changes_its_key_and_every_later_one_only(tree):
    before = keys(tree, LAYER1 + ["monitoring"])
    coll, _packer = tree
    (coll / "roles" / "hardening" / "tasks" / "main.yml").write_text("- name: changed\n")
    after = keys(tree, LAYER1 + ["monitoring"])
    assert after[:2] == before[:2]
    assert all(a != b for a, b in zip(after[2:], before[2:]))


def test_a_change_to_a_later_layer_keeps_every_layer1_key(tree):
    before = keys(tree, LAYER1 + ["monitoring"])
    coll, _packer = tree
    (coll / "roles" / "monitoring" / "defaults").mkdir()
    (coll / "roles" / "monitoring" / "defaults" / "main.yml").write_text("x: 1\n")
    after = keys(tree, LAYER1 + ["monitoring"])
    assert after[:4] == before[:4] and after[4] != before[4]


@pytest.mark.parametrize("change", ["site", "plugin", "packer", "variables", "parent"])
def test_what_every_step_runs_changes_every_key(tree, change):
    coll, packer = tree
    before = keys(tree)
    variables, parent = None, "sha256:base"
    if change == "site":
        (coll / "playbooks" / "site.yml").write_text("- hosts: other\n")
    elif change == "plugin":
        (coll / "plugins" / "modules" / "m.py").write_text("x = 2\n")
    elif change == "packer":
        (packer / "scripts" / "build-mode.sh").write_text("changed\n")
    elif change == "variables":
        variables = {"admin": "b"}
    else:
        parent = "sha256:other-base"
    after = keys(tree, variables=variables, parent=parent)
    assert all(a != b for a, b in zip(after, before))


def test_compiled_python_does_not_change_a_key(tree):
    before = keys(tree)
    coll, _packer = tree
    (coll / "plugins" / "modules" / "__pycache__" / "m.cpython-312.pyc").write_bytes(b"other junk")
    assert keys(tree) == before


# --- snapshots: store, find, fall back --------------------------------------------------------------

@pytest.fixture
def cache(tree, tmp_path, monkeypatch):
    """A cache holding a snapshot after each layer-1 step (qemu-img check replaced: the files are not qcow2)."""
    damaged = set()
    monkeypatch.setattr(layer_cache, "qemu_check", lambda path: "corrupt L2 table" if os.path.basename(path) in damaged else None)
    coll, packer = tree
    steps = layer_cache.step_keys("sha256:base", LAYER1, str(coll), str(packer), {"admin": "a"})
    cache_dir = tmp_path / "cache"
    rows, _start = layer_cache.plan(str(cache_dir), steps, log=lambda _line: None)
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps({"cache": str(cache_dir), "parent_key": "sha256:base", "start": 0, "steps": rows}))
    os.makedirs(str(cache_dir))
    for index, row in enumerate(rows):
        disk = tmp_path / ("out-%s.qcow2" % row["role"])
        disk.write_bytes(row["role"].encode().ljust(4000, b"."))
        layer_cache.cmd_put(type("A", (), {"plan": str(plan_file), "step": index, "image": str(disk), "seconds": 10 + index})())
        meta = layer_cache.snapshot_paths(str(cache_dir), row["role"], row["key"])[1]
        record = json.load(open(meta))
        record["created"] = "2026-12-01T00:00:0%dZ" % index  # base oldest, docker newest
        with open(meta, "w") as handle:
            json.dump(record, handle)
    return str(cache_dir), steps, damaged


def test_put_keeps_the_disk_under_its_key_with_a_record(cache):
    cache_dir, steps, _damaged = cache
    role, key, _inputs = steps[1]
    image, meta = layer_cache.snapshot_paths(cache_dir, role, key)
    record = json.load(open(meta))
    assert os.path.exists(image) and record["key"] == key and record["parent_key"] == steps[0][1]
    assert record["size_bytes"] == os.path.getsize(image) == 4000 and record["seconds"] == 11
    assert record["sha256"] == layer_cache.sha256_file(image)


def test_a_rebuild_with_no_change_starts_after_the_last_step(cache):
    cache_dir, steps, _damaged = cache
    rows, start = layer_cache.plan(cache_dir, steps, log=lambda _line: None)
    assert start == 4 and all(row["cached"] for row in rows)


def test_no_cache_builds_every_step(cache):
    cache_dir, steps, _damaged = cache
    lines = []
    rows, start = layer_cache.plan(cache_dir, steps, no_cache=True, log=lines.append)
    assert start == 0 and not any(row["cached"] for row in rows) and "--no-cache" in lines[0]


def test_a_changed_step_starts_the_build_below_it(cache, tree):
    cache_dir, _steps, _damaged = cache
    coll, packer = tree
    (coll / "roles" / "docker" / "tasks" / "main.yml").write_text("- name: changed docker\n")
    steps = layer_cache.step_keys("sha256:base", LAYER1, str(coll), str(packer), {"admin": "a"})
    lines = []
    rows, start = layer_cache.plan(cache_dir, steps, log=lines.append)
    assert start == 3 and [r["cached"] for r in rows] == [True, True, True, False]
    assert lines == []  # a snapshot that does not exist yet is no problem to report


@pytest.mark.parametrize("damage, reason", [
    ("flip", "its sha256 differs from its record"),
    ("truncate", "the record says 4000"),
    ("qemu", "qemu-img check failed: corrupt L2 table"),
    ("record", "its record docker-"),
    ("disk", "its disk docker-"),
])
def test_a_damaged_snapshot_falls_back_to_the_one_below_with_one_line(cache, damage, reason):
    cache_dir, steps, damaged = cache
    image, meta = layer_cache.snapshot_paths(cache_dir, "docker", steps[3][1])
    if damage == "flip":
        with open(image, "r+b") as handle:
            handle.seek(100)
            handle.write(b"X")
    elif damage == "truncate":
        with open(image, "r+b") as handle:
            handle.truncate(10)
    elif damage == "qemu":
        damaged.add(os.path.basename(image))
    elif damage == "record":
        os.remove(meta)
    else:
        os.remove(image)
    lines = []
    rows, start = layer_cache.plan(cache_dir, steps, log=lines.append)
    assert start == 3 and not rows[3]["cached"] and rows[2]["cached"]
    assert len(lines) == 1 and reason in lines[0] and "trying the one below (hardening)" in lines[0]


def test_the_deepest_whole_snapshot_wins_even_when_one_below_is_gone(cache):
    cache_dir, steps, _damaged = cache
    image, _meta = layer_cache.snapshot_paths(cache_dir, "security", steps[1][1])
    os.remove(image)
    _rows, start = layer_cache.plan(cache_dir, steps, log=lambda _line: None)
    assert start == 4  # snapshots are whole copies: the docker one needs none below it


def test_put_refuses_a_disk_that_fails_its_check(cache, tmp_path, monkeypatch):
    cache_dir, steps, _damaged = cache
    monkeypatch.setattr(layer_cache, "qemu_check", lambda path: "leaked clusters")
    plan_file = tmp_path / "plan.json"
    disk = tmp_path / "bad.qcow2"
    disk.write_bytes(b"x")
    with pytest.raises(layer_cache.CacheError, match="fails qemu-img check .leaked clusters.; not cached"):
        layer_cache.cmd_put(type("A", (), {"plan": str(plan_file), "step": 0, "image": str(disk), "seconds": 1})())
    assert disk.exists()


# --- prune and record -------------------------------------------------------------------------------

def test_prune_keeps_the_newest_per_role_and_never_the_builds_own(cache, tree):
    cache_dir, steps, _damaged = cache
    coll, packer = tree
    # A second chain from another base: every role has two snapshots now.
    tmp = os.path.dirname(cache_dir)
    other = layer_cache.step_keys("sha256:other", LAYER1, str(coll), str(packer), {"admin": "a"})
    rows, _start = layer_cache.plan(cache_dir, other, log=lambda _line: None)
    plan_file = os.path.join(tmp, "plan2.json")
    with open(plan_file, "w") as handle:
        json.dump({"cache": cache_dir, "parent_key": "sha256:other", "start": 0, "steps": rows}, handle)
    for index, row in enumerate(rows):
        disk = os.path.join(tmp, "o-%s.qcow2" % row["role"])
        with open(disk, "wb") as handle:
            handle.write(b"o" * 500)
        layer_cache.cmd_put(type("A", (), {"plan": plan_file, "step": index, "image": disk, "seconds": 1})())
        meta = layer_cache.snapshot_paths(cache_dir, row["role"], row["key"])[1]
        record = json.load(open(meta))
        record["created"] = "2030-01-01T00:00:0%dZ" % index  # newer than the first chain
        with open(meta, "w") as handle:
            json.dump(record, handle)
    assert len(layer_cache.snapshots(cache_dir)) == 8
    protect = tuple(key[:16] for _role, key, _inputs in steps)  # the older chain is the build in progress
    removed, kept = layer_cache.prune(cache_dir, 1, protect=protect)
    assert len(kept) == 8 and removed == []
    removed, kept = layer_cache.prune(cache_dir, 1)
    assert {s["key16"] for s in kept} == {key[:16] for _role, key, _inputs in other} and len(removed) == 4
    assert not any(os.path.exists(s["path"]) or os.path.exists(s["meta"]) for s in removed)


def test_prune_to_a_size_removes_the_oldest_first(cache):
    cache_dir, steps, _damaged = cache
    removed, kept = layer_cache.prune(cache_dir, 5, max_bytes=8000)
    assert sorted(s["role"] for s in removed) == ["base", "security"]
    assert sorted(s["role"] for s in kept) == ["docker", "hardening"]


def test_prune_keep_must_be_positive():
    proc = run_cli("prune", "--cache", "/nonexistent", "--keep", "0")
    assert proc.returncode == 2 and "must be a whole number of 1 or more" in proc.stderr


def test_record_puts_each_step_and_its_origin_in_the_manifest(tmp_path):
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps({"parent_key": "sha256:b", "no_cache": False, "steps": [
        {"role": "base", "layer": 1, "key": "k1", "cached": True},
        {"role": "monitoring", "layer": 4, "key": "k2", "cached": False}]}))
    manifest = tmp_path / "m.json"
    manifest.write_text(json.dumps({"build": {"layers_built": [1]}}))
    layer_cache.cmd_record(type("A", (), {"plan": str(plan_file), "manifest": str(manifest)})())
    build = json.load(open(str(manifest)))["build"]
    assert build["roles_built"] == ["base", "monitoring"] and build["layers_built"] == [1]
    assert build["layer_cache"]["steps"][0] == {"role": "base", "layer": 1, "key": "k1", "from_cache": True}
    assert build["layer_cache"]["steps"][1]["from_cache"] is False


TEMPLATE = '''variable "v" {
  type = string
}

source "qemu" "layer" {
  vm_name = "layer.qcow2"
}

source "qemu" "seal" {
  vm_name = "image.qcow2"
}

build {
  sources = ["source.qemu.layer"]
  provisioner "shell" {
    inline = ["step"]
  }
}

# The seal.
build {
  sources = ["source.qemu.seal"]
  provisioner "shell" {
    inline = ["seal"]
  }
}
'''


def test_a_change_to_the_sealing_parts_of_the_template_keeps_every_key(tree):
    _coll, packer = tree
    (packer / "demobox.pkr.hcl").write_text(TEMPLATE)
    before = keys(tree)
    (packer / "demobox.pkr.hcl").write_text(TEMPLATE.replace('inline = ["seal"]', 'inline = ["seal", "more"]')
                                            .replace('"image.qcow2"', '"other.qcow2"'))
    assert keys(tree) == before
    (packer / "demobox.pkr.hcl").write_text(TEMPLATE.replace('inline = ["step"]', 'inline = ["step", "more"]'))
    assert all(a != b for a, b in zip(keys(tree), before))


def test_the_step_template_keeps_everything_but_the_seal():
    text = layer_cache.step_template_text(TEMPLATE)
    assert 'source "qemu" "layer"' in text and 'variable "v"' in text and "step" in text
    assert 'source "qemu" "seal"' not in text and "source.qemu.seal" not in text


def test_the_ubuntu_install_is_kept_like_a_step_and_found_again(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(layer_cache, "qemu_check", lambda path: None)
    inputs = []
    for name, text in (("iso.txt", "default default\n"), ("user-data", "#cloud-config\n")):
        (tmp_path / name).write_text(text)
        inputs.append(str(tmp_path / name))
    cache = str(tmp_path / "cache")
    args = ["first", "--cache", cache, "--inputs"] + inputs
    assert layer_cache.main(args) == 3  # not built yet: where to put it
    key, image = capsys.readouterr().out.split()
    assert os.path.basename(image) == "install-%s.qcow2" % key[:16]
    disk = tmp_path / "install.qcow2"
    disk.write_bytes(b"disk" * 100)
    assert layer_cache.main(args + ["--disk", str(disk), "--seconds", "600"]) == 0
    capsys.readouterr()
    assert layer_cache.main(args) == 0 and capsys.readouterr().out.split() == [key, image]
    assert layer_cache.main(args + ["--no-cache"]) == 3
    capsys.readouterr()
    (tmp_path / "user-data").write_text("#cloud-config\nchanged: true\n")
    assert layer_cache.main(args) == 3 and capsys.readouterr().out.split()[0] != key
    assert [s["role"] for s in layer_cache.snapshots(cache)] == ["install"]  # pruned like the steps
