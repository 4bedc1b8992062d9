# -*- coding: utf-8 -*-
"""The compatibility rules, exhaustively: every PCI row, every chip, the boundaries."""
import os
import re

import pytest

from ansible_collections.vaultcube.demobox.plugins.module_utils import _nvidia_compat as C

RTX5090 = "0x2b85"
H200 = "0x2335"
RTX4090 = "0x2684"
V100 = "0x1db4"
GTX1080 = "0x1b80"
B200 = "0x2901"
GH200 = "0x2342"
T4 = "0x1eb8"


# --- The table itself --------------------------------------------------------------------------
def test_the_table_was_generated_from_pci_ids():
    assert C.PCI_IDS_VERSION != "none"
    assert len(C.DEVICES) > 500


@pytest.mark.parametrize("device", sorted(C.DEVICES))
def test_every_pci_row_names_a_known_chip_and_resolves(device):
    chip, name = C.DEVICES[device]
    assert chip in C.CHIPS
    info = C.lookup(device)
    assert info["known"] is True
    assert info["chip"] == chip
    assert info["architecture"] in C.ARCHITECTURES
    assert info["compute_capability"] in {C.fmt_version(cc) for _arch, cc, _b in C.CHIPS.values()}
    assert info["name"].startswith("NVIDIA ")
    if name:
        assert name in info["name"]


@pytest.mark.parametrize("device", sorted(C.DEVICES))
def test_every_pci_row_accepts_a_plan_that_suits_it_and_refuses_one_just_below(device):
    """For each row: the lowest suitable plan passes; one step below each minimum is refused."""
    info = C.lookup(device)
    branch = max(info["min_branch"] or 535, 535)
    if info["last_branch"] is not None:
        branch = min(branch, info["last_branch"])
    flavour = "open" if info["open_ok"] else "proprietary"
    cuda = info["min_cuda"] if C.parse_version(info["min_cuda"]) >= (12, 0) else "12.0"
    floor = C.CUDA_MAJOR_MIN_BRANCH[C.parse_version(cuda)[0]]
    branch = max(branch, floor)
    verdict = C.judge([device], str(branch), flavour, cuda)
    assert verdict["compatible"], verdict["failures"]
    assert verdict["gpus"][0]["verdict"] == "compatible"

    if info["min_branch"] is not None:
        below = C.judge([device], str(info["min_branch"] - 5), flavour)
        assert not below["compatible"]
        assert "driver branch %d or newer" % info["min_branch"] in below["failures"][0]
    if info["open_required"]:
        prop = C.judge([device], str(branch), "proprietary", cuda)
        assert not prop["compatible"] and "nvidia_driver_flavour: open" in prop["failures"][0]
    if info["open_ok"] is False:
        opened = C.judge([device], str(branch), "open", cuda)
        assert not opened["compatible"] and "nvidia_driver_flavour: proprietary" in opened["failures"][0]
    first = C.parse_version(info["min_cuda"])
    if first >= (12, 1):
        earlier = "%d.%d" % (first[0], first[1] - 1) if first[1] > 0 else "11.8"
        old = C.judge([device], str(branch), flavour, earlier)
        assert not old["compatible"] and "CUDA %s or newer" % info["min_cuda"] in old["failures"][0]


@pytest.mark.parametrize("chip", sorted(C.CHIPS))
def test_every_chip_has_a_first_cuda_for_its_capability(chip):
    arch, capability, first_branch = C.CHIPS[chip]
    assert arch in C.ARCHITECTURES
    assert capability in C.CUDA_FIRST_FOR_CAPABILITY
    assert first_branch is None or 470 <= first_branch <= 600
    assert any(row[0] == chip for row in C.DEVICES.values()), "no PCI row for chip %s" % chip


def test_architectures_are_consistent():
    for arch in C.ARCHITECTURES.values():
        assert not (arch["open_required"] and not arch["open_ok"])
    # the open modules drive Turing and newer; Blackwell needs them
    assert [a for a, r in C.ARCHITECTURES.items() if not r["open_ok"]] == ["maxwell", "pascal", "volta"]
    assert [a for a, r in C.ARCHITECTURES.items() if r["open_required"]] == ["blackwell"]


def test_toolkit_driver_table_is_monotonic_and_above_the_major_floor():
    versions = sorted(C.CUDA_TOOLKIT_DRIVER)
    branches = [C.branch_number(C.CUDA_TOOLKIT_DRIVER[v]) for v in versions]
    assert branches == sorted(branches)
    for version, driver in C.CUDA_TOOLKIT_DRIVER.items():
        assert C.branch_number(driver) >= C.CUDA_MAJOR_MIN_BRANCH[version[0]]


def test_the_generator_script_and_the_table_agree(tmp_path):
    """scripts/gen-nvidia-pci-table.py rebuilds the same rows from a pci.ids excerpt."""
    import importlib.util
    import shutil
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
    work = tmp_path / "repo"
    (work / "scripts").mkdir(parents=True)
    (work / "plugins" / "module_utils").mkdir(parents=True)
    shutil.copy(os.path.join(root, "scripts", "gen-nvidia-pci-table.py"), str(work / "scripts"))
    shutil.copy(os.path.join(root, "plugins", "module_utils", "_nvidia_compat.py"),
                str(work / "plugins" / "module_utils"))
    ids = tmp_path / "pci.ids"
    ids.write_text("#\tVersion: 2099.01.01\n10de  NVIDIA Corporation\n"
                   "\t2b85  GB202 [GeForce RTX 5090]\n\t22e8  GB202 High Definition Audio Controller\n"
                   "\t2900  GB100 [Reserved Dev ID A]\n\t2924  GB100\n\t3000  GR100 [Reserved Dev ID A]\n"
                   "\t3021  GR100 [PCIe Faber]\n10df  Emulex Corporation\n\t2b86  GB202 [not NVIDIA]\n")
    spec = importlib.util.spec_from_file_location("gen", str(work / "scripts" / "gen-nvidia-pci-table.py"))
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    import sys
    old_argv = sys.argv
    sys.argv = ["gen", str(ids)]
    saved = sys.modules.pop("_nvidia_compat", None)
    try:
        gen.main()
    finally:
        sys.argv = old_argv
        sys.modules.pop("_nvidia_compat", None)
        if saved is not None:
            sys.modules["_nvidia_compat"] = saved
    text = (work / "plugins" / "module_utils" / "_nvidia_compat.py").read_text()
    assert "PCI_IDS_VERSION = '2099.01.01'" in text
    assert "0x2b85: ('GB202', 'GeForce RTX 5090')," in text
    assert "0x2924: ('GB100', '')," in text
    assert "0x22e8" not in text and "0x2900" not in text and "0x3021" not in text and "0x2b86" not in text


# --- The Blackwell refusal, the boundaries ---------------------------------------------
def test_rtx5090_with_the_specs_550_and_cuda_124_is_refused_in_one_sentence():
    verdict = C.judge([RTX5090] * 4, "550", "open", "12.4")
    assert verdict["compatible"] is False
    assert verdict["failures"] == [
        "4x NVIDIA GeForce RTX 5090 (PCI 10de:2b85, Blackwell, compute capability 12.0, sm_120) cannot run with "
        "driver branch 550 and CUDA 12.4: use driver branch 570 or newer (nvidia_driver_branch) and CUDA 12.8 or "
        "newer (cuda_version)."]
    assert verdict["gpus"][0]["count"] == 4


@pytest.mark.parametrize("branch,ok", [("550", False), ("565", False), ("569", False), ("570", True),
                                       ("575", True), ("580", True), ("580-server", True), ("590", True)])
def test_rtx5090_branch_boundary_565_570(branch, ok):
    verdict = C.judge([RTX5090], branch, "open", None)
    assert verdict["compatible"] is ok
    if not ok:
        assert verdict["failures"][0].endswith("use driver branch 570 or newer (nvidia_driver_branch).")


@pytest.mark.parametrize("cuda,ok", [("12.4", False), ("12.6", False), ("12.8", True), ("12.9", True),
                                     ("13.0", True)])
def test_rtx5090_cuda_boundary_126_128(cuda, ok):
    verdict = C.judge([RTX5090], "580", "open", cuda)
    assert verdict["compatible"] is ok
    if not ok:
        assert "cannot run with CUDA %s: use CUDA 12.8 or newer (cuda_version)." % cuda in verdict["failures"][0]


@pytest.mark.parametrize("flavour,ok", [("open", True), ("proprietary", False), ("any", True)])
def test_rtx5090_flavour(flavour, ok):
    verdict = C.judge([RTX5090], "580", flavour, "13.0")
    assert verdict["compatible"] is ok
    if not ok:
        assert "cannot run with the proprietary kernel modules: use the open kernel modules" in verdict["failures"][0]


def test_everything_wrong_at_once_is_still_one_sentence_per_gpu():
    verdict = C.judge([RTX5090], "550", "proprietary", "12.6")
    assert len(verdict["failures"]) == 1
    sentence = verdict["failures"][0]
    assert sentence.endswith(".") and re.search(r"\.\s+[A-Z]", sentence) is None  # a single sentence
    assert "driver branch 550, the proprietary kernel modules and CUDA 12.6" in sentence


def test_h200_hopper_passes_with_the_gpu_machines_580_and_cuda_130():
    verdict = C.judge([H200], "580", "open", "13.0")
    assert verdict["compatible"] and verdict["failures"] == [] and verdict["warnings"] == []
    gpu = verdict["gpus"][0]
    assert (gpu["architecture"], gpu["compute_capability"], gpu["name"]) == ("hopper", "9.0", "NVIDIA H200 SXM 141GB")
    assert C.judge([H200], "580", "proprietary", "13.0")["compatible"]


def test_mixed_gpus_get_one_sentence_per_model_that_fails():
    verdict = C.judge([RTX5090, H200, RTX5090, V100], "580", "open", "13.0")
    assert [g["name"] for g in verdict["gpus"]] == [
        "NVIDIA GeForce RTX 5090", "NVIDIA H200 SXM 141GB", "NVIDIA Tesla V100 PCIe 16GB"]
    assert [g["verdict"] for g in verdict["gpus"]] == ["compatible", "compatible", "incompatible"]
    assert len(verdict["failures"]) == 1
    assert verdict["failures"][0].startswith("NVIDIA Tesla V100 PCIe 16GB (PCI 10de:1db4, Volta, compute capability 7.0")
    assert "the open kernel modules and CUDA 13.0" in verdict["failures"][0]
    assert "CUDA 12.9 or older (cuda_version)" in verdict["failures"][0]


def test_no_gpu_is_compatible_and_judges_only_branch_against_cuda():
    assert C.judge([], "580", "open", "13.0") == {
        "verdict": "compatible", "compatible": True, "failures": [], "cannot_judge": [], "warnings": [], "gpus": [],
        "plan": {"branch": 580, "flavour": "open", "cuda_version": "13.0"}}
    verdict = C.judge([], "570", "open", "13.0")
    assert verdict["failures"] == ["CUDA 13.0 needs driver branch 580 or newer, but nvidia_driver_branch is 570: set "
                                   "nvidia_driver_branch to 580 or newer, or cuda_version to an older major version."]


@pytest.mark.parametrize("branch,cuda,failure,warning", [
    ("524", "12.0", True, False),   # below CUDA 12's floor
    ("525", "12.8", False, True),   # minor-version compatibility: a warning
    ("570", "12.8", False, False),
    ("575", "12.9", False, False),
    ("570", "12.9", False, True),
    ("580", "13.0", False, False),
    ("575", "13.0", True, False),
    ("580", "13.1", False, True),   # not in the table: only the major floor is judged
    ("580", "14.0", False, True),   # unknown major: not judged
    ("450", "11.8", False, True),
])
def test_branch_against_cuda(branch, cuda, failure, warning):
    verdict = C.judge([], branch, "open", cuda)
    assert bool(verdict["failures"]) is failure
    assert bool(verdict["warnings"]) is warning


def test_legacy_gpus_keep_to_580_and_cuda_12():
    assert C.judge([GTX1080], "580", "proprietary", "12.9")["compatible"]
    verdict = C.judge([GTX1080], "590", "proprietary", "12.9")
    assert "driver branch 580 or older (nvidia_driver_branch)" in verdict["failures"][0]
    verdict = C.judge([GTX1080], "580", "proprietary", "13.0")
    assert "CUDA 12.9 or older (cuda_version)" in verdict["failures"][0]


def test_grace_hopper_needs_the_open_modules_like_blackwell():
    assert C.judge([GH200], "580", "open", "13.0")["compatible"]
    assert not C.judge([GH200], "580", "proprietary", "13.0")["compatible"]
    assert C.judge([H200], "580", "proprietary", "13.0")["compatible"]  # the override is per device


def test_b200_needs_570_and_cuda_128():
    assert not C.judge([B200], "565", "open", "12.8")["compatible"]
    assert not C.judge([B200], "570", "open", "12.6")["compatible"]
    assert C.judge([B200], "570", "open", "12.8")["compatible"]


def test_open_modules_on_geforce_before_560_are_a_warning_not_a_refusal():
    verdict = C.judge([RTX4090], "550", "open", "12.4")
    assert verdict["compatible"]
    assert verdict["warnings"] == ["NVIDIA GeForce RTX 4090 runs the open kernel modules of branch 550 as beta quality; "
                                   "NVIDIA recommends them for GeForce and workstation GPUs from branch 560 on."]
    assert C.judge([T4], "550", "open", "12.4")["warnings"] == []  # a data-centre GPU
    assert C.judge([RTX4090], "560", "open", "12.4")["warnings"] == []


def test_unknown_cuda_major_is_never_compatible():
    verdict = C.judge([RTX5090], "580", "open", "14.0")
    assert (verdict["verdict"], verdict["compatible"], verdict["failures"]) == ("cannot judge", None, [])
    assert verdict["cannot_judge"] == ["CUDA 14.0 is a major version this collection's CUDA table has no row for (it knows 11, "
                                       "12 and 13), so its driver requirement cannot be judged."]
    verdict = C.judge([RTX5090], "580", "open", "14.0", unknown_version="fail")
    assert (verdict["verdict"], verdict["compatible"]) == ("incompatible", False)
    assert verdict["failures"][0].endswith("use a CUDA version it knows, or set unknown_version: cannot_judge to go on unjudged.")
    # a known major with an unknown minor is judged by its major's floor
    assert C.judge([RTX5090], "580", "open", "13.1")["verdict"] == "compatible"


def test_unknown_gpu_warns_or_fails():
    verdict = C.judge(["0x9999"], "580", "open", "13.0")
    assert verdict["compatible"] is None and verdict["verdict"] == "cannot judge"
    assert verdict["gpus"][0]["verdict"] == "unknown"
    assert verdict["warnings"][0].startswith("NVIDIA GPU 10de:9999 is not in this collection's GPU table")
    verdict = C.judge(["0x9999"], "580", "open", "13.0", unknown_gpu="fail")
    assert not verdict["compatible"]
    assert verdict["failures"][0].endswith("then set nvidia_driver_precheck_unknown_gpu: warn.")


def test_nothing_judged_without_branch_and_cuda():
    verdict = C.judge([RTX5090], None, "any", None)
    assert verdict["compatible"] and verdict["plan"] == {"branch": None, "flavour": "any", "cuda_version": None}


@pytest.mark.parametrize("bad,call", [
    ("flavour", lambda: C.judge([], "580", "closed")),
    ("unknown", lambda: C.judge([], "580", "open", unknown_gpu="ignore")),
    ("unknown_version", lambda: C.judge([], "580", "open", unknown_version="warn")),
    ("branch", lambda: C.judge([], "latest")),
    ("cuda", lambda: C.judge([], "580", "open", "thirteen")),
    ("device", lambda: C.judge(["RTX5090"], "580")),
])
def test_bad_input_is_a_value_error(bad, call):
    with pytest.raises(ValueError):
        call()


# --- Parsing -----------------------------------------------------------------------------------
@pytest.mark.parametrize("text,value", [("0x2b85", 0x2B85), ("2B85", 0x2B85), ("10de:2b85", 0x2B85), (11141, 11141)])
def test_parse_device_id(text, value):
    assert C.parse_device_id(text) == value


@pytest.mark.parametrize("text,value", [("580", 580), ("580-server", 580), ("580.95.05", 580), (570, 570),
                                        (None, None), ("", None)])
def test_branch_number(text, value):
    assert C.branch_number(text) == value


def test_parse_proc_version_open_and_proprietary():
    opened = ("NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.159.04  Release Build  "
              "(dvs-builder@U22-I3-AE18-23-3)  Thu Oct 30 2025\nGCC version:  gcc version 13.3.0\n")
    assert C.parse_proc_version(opened) == {"version": "580.159.04", "branch": 580, "flavour": "open"}
    prop = "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.163.01  Wed May  7 16:09:03 UTC 2025\n"
    assert C.parse_proc_version(prop) == {"version": "550.163.01", "branch": 550, "flavour": "proprietary"}
    arm = "NVRM version: NVIDIA UNIX Open Kernel Module for aarch64  580.95.05  Release Build\n"
    assert C.parse_proc_version(arm)["flavour"] == "open"
    assert C.parse_proc_version("") is None
    assert C.parse_proc_version("garbage") is None


def test_parse_lspci():
    text = ("0000:00:02.0 0300: 8086:4680 (rev 0c)\n0000:01:00.0 0300: 10de:2b85 (rev a1)\n"
            "0000:01:00.1 0403: 10de:22e8 (rev a1)\n0000:41:00.0 0302: 10de:2335 (rev a1)\n")
    assert C.parse_lspci(text) == [
        {"slot": "0000:01:00.0", "device_id": "0x2b85", "source": "lspci"},
        {"slot": "0000:41:00.0", "device_id": "0x2335", "source": "lspci"}]


def _pci(root, slot, vendor, device, pci_class):
    path = root / slot
    path.mkdir()
    (path / "vendor").write_text(vendor + "\n")
    (path / "device").write_text(device + "\n")
    (path / "class").write_text(pci_class + "\n")


def test_scan_sysfs_keeps_nvidia_display_controllers_only(tmp_path):
    _pci(tmp_path, "0000:00:02.0", "0x8086", "0x4680", "0x030000")   # Intel GPU
    _pci(tmp_path, "0000:01:00.0", "0x10de", "0x2b85", "0x030000")   # RTX 5090
    _pci(tmp_path, "0000:01:00.1", "0x10de", "0x22e8", "0x040300")   # its HD audio function
    _pci(tmp_path, "0000:41:00.0", "0x10de", "0x2335", "0x030200")   # H200 (3D controller)
    _pci(tmp_path, "0000:42:00.0", "0x10de", "zz", "0x030200")       # unreadable
    (tmp_path / "0000:43:00.0").mkdir()                               # no files
    assert C.scan_sysfs(str(tmp_path)) == [
        {"slot": "0000:01:00.0", "device_id": "0x2b85", "source": "sysfs"},
        {"slot": "0000:41:00.0", "device_id": "0x2335", "source": "sysfs"}]
    assert C.scan_sysfs(str(tmp_path / "missing")) is None


@pytest.mark.parametrize("text,state", [("SecureBoot enabled\n", "enabled"), ("SecureBoot disabled\n", "disabled"),
                                        ("EFI variables are not supported on this system\n", "not_efi"),
                                        ("something else", None)])
def test_parse_mokutil(text, state):
    assert C.parse_mokutil(text) == state


def test_secure_boot_from_efivars(tmp_path):
    assert C.secure_boot_from_efivars(str(tmp_path / "none")) == "not_efi"
    (tmp_path / "efivars").mkdir()
    assert C.secure_boot_from_efivars(str(tmp_path)) is None
    var = tmp_path / "efivars" / C.SECURE_BOOT_EFIVAR
    var.write_bytes(b"\x06\x00\x00\x00\x01")
    assert C.secure_boot_from_efivars(str(tmp_path)) == "enabled"
    var.write_bytes(b"\x06\x00\x00\x00\x00")
    assert C.secure_boot_from_efivars(str(tmp_path)) == "disabled"
    var.write_bytes(b"\x06")
    assert C.secure_boot_from_efivars(str(tmp_path)) is None
