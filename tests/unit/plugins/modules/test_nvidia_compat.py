# -*- coding: utf-8 -*-
"""The nvidia_compat module: detection from files (sysfs, /proc, EFI) and the judgement."""
import json

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.vaultcube.demobox.plugins.module_utils import _nvidia_compat as C
from ansible_collections.vaultcube.demobox.plugins.modules import nvidia_compat

OPEN_580 = ("NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.159.04  Release Build  "
            "(dvs-builder@U22-I3-AE18-23-3)  Thu Oct 30 2025\nGCC version:  gcc version 13.3.0\n")


class Host:
    """A fake host made of real files: a sysfs PCI tree, /proc/driver/nvidia/version, EFI vars."""

    def __init__(self, tmp_path):
        self.root = tmp_path
        self.pci = tmp_path / "pci"
        self.pci.mkdir()
        self.proc = tmp_path / "version"
        self.efi = tmp_path / "efi"

    def gpu(self, slot, device, pci_class="0x030000", vendor="0x10de"):
        path = self.pci / slot
        path.mkdir()
        (path / "vendor").write_text(vendor)
        (path / "device").write_text(device)
        (path / "class").write_text(pci_class)
        return self

    def args(self, **extra):
        args = {"sysfs_path": str(self.pci), "proc_version_path": str(self.proc), "efi_path": str(self.efi)}
        args.update(extra)
        return args


def run(args, capsys, monkeypatch, bins=None, commands=None):
    """Run the module; ``bins`` maps tool names to paths, ``commands`` maps argv[0] to (rc, out, err)."""
    bins = bins or {}
    commands = commands or {}
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path",
                        lambda self, name, required=False, opt_dirs=None: bins.get(name))
    calls = []

    def run_command(self, argv, **kwargs):
        calls.append(argv)
        return commands[argv[0]]

    monkeypatch.setattr(basic.AnsibleModule, "run_command", run_command)
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            nvidia_compat.main()
    out = json.loads(capsys.readouterr().out)
    out["_calls"] = calls
    return exc.value.code, out


def test_h200_with_580_open_loaded_passes_and_reports_the_driver(tmp_path, capsys, monkeypatch):
    host = Host(tmp_path).gpu("0000:18:00.0", "0x2335")
    host.proc.write_text(OPEN_580)
    code, out = run(host.args(branch="580", cuda_version="13.0"), capsys, monkeypatch)
    assert code == 0 and out["changed"] is False and out["compatible"] is True and out["passed"] is True
    assert out["gpu_count"] == 1 and out["detection"]["method"] == "sysfs"
    assert out["devices"] == [{"slot": "0000:18:00.0", "device_id": "0x2335", "source": "sysfs"}]
    assert out["driver"] == {"loaded": True, "version": "580.159.04", "branch": 580, "flavour": "open",
                             "source": str(host.proc)}
    assert out["secure_boot"] == {"state": "not_efi", "source": "efivars"}
    assert out["msg"] == ("Found NVIDIA H200 SXM 141GB: driver branch 580, the open kernel modules and CUDA 13.0 "
                          "suit it.")


def test_four_rtx5090_with_550_fail_the_task_with_one_sentence(tmp_path, capsys, monkeypatch):
    host = Host(tmp_path)
    for i in range(4):
        host.gpu("0000:0%d:00.0" % (i + 1), "0x2b85")
        host.gpu("0000:0%d:00.1" % (i + 1), "0x22e8", pci_class="0x040300")  # the HD audio functions
    code, out = run(host.args(branch="550", cuda_version="12.4"), capsys, monkeypatch)
    assert code == 1 and out["failed"] is True and out["compatible"] is False
    assert out["gpu_count"] == 4
    assert out["msg"] == out["failures"][0]
    assert out["msg"].startswith("4x NVIDIA GeForce RTX 5090 (PCI 10de:2b85, Blackwell, compute capability 12.0")


def test_fail_on_incompatible_false_returns_the_verdict(tmp_path, capsys, monkeypatch):
    host = Host(tmp_path).gpu("0000:01:00.0", "0x2b85")
    code, out = run(host.args(branch="580", flavour="proprietary", fail_on_incompatible=False), capsys, monkeypatch)
    assert code == 0 and out["compatible"] is False and len(out["failures"]) == 1


def test_target_gpus_are_judged_on_a_host_without_gpus(tmp_path, capsys, monkeypatch):
    host = Host(tmp_path)
    code, out = run(host.args(branch="580", cuda_version="12.8", target_gpus=["0x2b85", "10de:2b85"]),
                    capsys, monkeypatch)
    assert code == 0 and out["gpu_count"] == 0 and out["compatible"] is True
    assert [d["source"] for d in out["devices"]] == ["target_gpus", "target_gpus"]
    assert out["msg"] == "Judged 2x NVIDIA GeForce RTX 5090: driver branch 580, the open kernel modules and CUDA 12.8 suit them."


def test_no_gpu_says_why(tmp_path, capsys, monkeypatch):
    host = Host(tmp_path).gpu("0000:00:02.0", "0x4680", vendor="0x8086")
    code, out = run(host.args(branch="580"), capsys, monkeypatch)
    assert code == 0 and out["gpu_count"] == 0 and out["gpus"] == []
    assert out["msg"] == ("Found no NVIDIA GPU: no NVIDIA display controller (vendor 0x10de, class 0x03xx) "
                          "on the PCI bus.")
    assert out["driver"]["loaded"] is False


def test_lspci_when_sysfs_is_not_readable(tmp_path, capsys, monkeypatch):
    host = Host(tmp_path)
    args = host.args(branch="580", sysfs_path=str(tmp_path / "nowhere"))
    lspci = "0000:01:00.0 0300: 10de:2b85 (rev a1)\n0000:01:00.1 0403: 10de:22e8 (rev a1)\n"
    code, out = run(args, capsys, monkeypatch, bins={"lspci": "/usr/bin/lspci"},
                    commands={"/usr/bin/lspci": (0, lspci, "")})
    assert code == 0 and out["detection"]["method"] == "lspci" and out["gpu_count"] == 1
    assert out["_calls"] == [["/usr/bin/lspci", "-Dn"]]


def test_neither_sysfs_nor_lspci(tmp_path, capsys, monkeypatch):
    host = Host(tmp_path)
    code, out = run(host.args(sysfs_path=str(tmp_path / "nowhere")), capsys, monkeypatch)
    assert out["detection"]["method"] == "none"
    assert "is not readable and lspci is not installed" in out["detection"]["reason"]
    code, out = run(host.args(sysfs_path=str(tmp_path / "nowhere")), capsys, monkeypatch,
                    bins={"lspci": "/usr/bin/lspci"}, commands={"/usr/bin/lspci": (1, "", "pcilib: cannot open")})
    assert out["detection"]["reason"] == "lspci failed: pcilib: cannot open"


def test_detect_false_judges_targets_only(tmp_path, capsys, monkeypatch):
    host = Host(tmp_path).gpu("0000:01:00.0", "0x2b85")
    code, out = run(host.args(branch="550", detect=False), capsys, monkeypatch)
    assert code == 0 and out["gpu_count"] == 0 and out["compatible"] is True
    assert out["detection"]["reason"] == "detection was turned off (detect: false)"


def test_driver_read_from_nvidia_smi_when_proc_is_missing(tmp_path, capsys, monkeypatch):
    host = Host(tmp_path).gpu("0000:18:00.0", "0x2335")
    code, out = run(host.args(branch="580"), capsys, monkeypatch, bins={"nvidia-smi": "/usr/bin/nvidia-smi"},
                    commands={"/usr/bin/nvidia-smi": (0, "580.95.05\n", "")})
    assert out["driver"] == {"loaded": True, "version": "580.95.05", "branch": 580, "flavour": None,
                             "source": "/usr/bin/nvidia-smi"}


def test_nvidia_smi_that_fails_means_no_driver(tmp_path, capsys, monkeypatch):
    host = Host(tmp_path)
    code, out = run(host.args(), capsys, monkeypatch, bins={"nvidia-smi": "/usr/bin/nvidia-smi"},
                    commands={"/usr/bin/nvidia-smi": (9, "NVIDIA-SMI has failed because it couldn't communicate", "")})
    assert out["driver"]["loaded"] is False


@pytest.mark.parametrize("mokutil,state", [("SecureBoot enabled\n", "enabled"), ("SecureBoot disabled\n", "disabled")])
def test_secure_boot_from_mokutil(tmp_path, capsys, monkeypatch, mokutil, state):
    host = Host(tmp_path)
    code, out = run(host.args(), capsys, monkeypatch, bins={"mokutil": "/usr/bin/mokutil"},
                    commands={"/usr/bin/mokutil": (0, mokutil, "")})
    assert out["secure_boot"] == {"state": state, "source": "mokutil"}


def test_secure_boot_from_efivars_and_override(tmp_path, capsys, monkeypatch):
    host = Host(tmp_path)
    (host.efi / "efivars").mkdir(parents=True)
    (host.efi / "efivars" / C.SECURE_BOOT_EFIVAR).write_bytes(b"\x06\x00\x00\x00\x01")
    code, out = run(host.args(), capsys, monkeypatch, bins={"mokutil": "/usr/bin/mokutil"},
                    commands={"/usr/bin/mokutil": (1, "", "something odd")})
    assert out["secure_boot"] == {"state": "enabled", "source": "efivars"}
    code, out = run(host.args(secure_boot="disabled"), capsys, monkeypatch)
    assert out["secure_boot"] == {"state": "disabled", "source": "setting"}
    (host.efi / "efivars" / C.SECURE_BOOT_EFIVAR).unlink()
    code, out = run(host.args(), capsys, monkeypatch)
    assert out["secure_boot"] == {"state": "unknown", "source": None}


@pytest.mark.parametrize("args,message", [
    ({"branch": "latest"}, "'latest' is not a driver branch (expected e.g. 580 or 580-server)."),
    ({"cuda_version": "thirteen"}, "'thirteen' is not a CUDA version (expected e.g. 12.8 or 13.0)."),
    ({"target_gpus": ["RTX5090"]}, "'RTX5090' is not an NVIDIA PCI device ID (expected e.g. 0x2b85 or 10de:2b85)."),
])
def test_bad_input_is_one_sentence(tmp_path, capsys, monkeypatch, args, message):
    code, out = run(Host(tmp_path).args(**args), capsys, monkeypatch)
    assert code == 1 and out["msg"] == message


def test_unknown_gpu_is_a_warning(tmp_path, capsys, monkeypatch):
    host = Host(tmp_path).gpu("0000:01:00.0", "0x9999")
    code, out = run(host.args(branch="580"), capsys, monkeypatch)
    assert code == 0 and out["warnings_found"] and out["warnings"][0]["event"]["msg"] == out["warnings_found"][0]
    code, out = run(host.args(branch="580", unknown_gpu="fail"), capsys, monkeypatch)
    assert code == 1


def test_unknown_cuda_major_is_cannot_judge_not_suits(tmp_path, capsys, monkeypatch):
    host = Host(tmp_path).gpu("0000:01:00.0", "0x2b85")
    code, out = run(host.args(branch="580", cuda_version="14.0"), capsys, monkeypatch)
    assert code == 0 and out["verdict"] == "cannot judge" and out["compatible"] is None and out["passed"] is None
    assert out["msg"].startswith("Cannot judge the plan: CUDA 14.0 is a major version this collection's CUDA table has no row for")
    assert "suit" not in out["msg"]
    code, out = run(host.args(branch="580", cuda_version="14.0", unknown_version="fail"), capsys, monkeypatch)
    assert code == 1 and out["compatible"] is False and "unknown_version: cannot_judge" in out["msg"]


def test_flavour_any_is_not_named_in_the_message(tmp_path, capsys, monkeypatch):
    host = Host(tmp_path).gpu("0000:01:00.0", "0x2b85")
    code, out = run(host.args(flavour="any", cuda_version="12.8"), capsys, monkeypatch)
    assert out["msg"] == "Found NVIDIA GeForce RTX 5090: CUDA 12.8 suits it."
