#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

DOCUMENTATION = r"""
---
module: nvidia_compat
short_description: Check NVIDIA GPUs against a driver branch, kernel-module flavour and CUDA version before installing
version_added: "0.1.0"
description:
  - Finds the NVIDIA GPUs of a host by their PCI IDs (sysfs, or C(lspci) where sysfs is not
    readable), so it works on a bare box before any NVIDIA driver exists.
  - Judges every GPU model found, plus the ones named in O(target_gpus), against the planned
    driver branch, kernel-module flavour (open or proprietary) and CUDA version, using the rules
    kept as data in C(plugins/module_utils/_nvidia_compat.py) (with their sources).
  - A GPU that cannot work with the plan (for example an RTX 5090, Blackwell with compute
    capability 12.0, with branch 550, the proprietary modules or CUDA 12.6) fails the task with
    one sentence naming the GPU and the fix, unless O(fail_on_incompatible=false).
  - Also reports the NVIDIA driver that is loaded already (from C(/proc/driver/nvidia/version),
    else C(nvidia-smi)) and the Secure Boot state (C(mokutil --sb-state), else the EFI variable).
  - The module only reads. It never reports C(changed) and runs the same in check mode.
options:
  branch:
    description:
      - Planned driver branch, for example V(580), V(570) or V(580-server). Not judged when unset.
    type: str
  flavour:
    description:
      - Planned kernel-module flavour. Blackwell and Grace Hopper need V(open); GPUs older than
        Turing need V(proprietary). V(any) leaves the flavour unjudged.
    type: str
    choices: [open, proprietary, any]
    default: open
  cuda_version:
    description:
      - Planned CUDA toolkit version, for example V(12.8) or V(13.0). Not judged when unset.
    type: str
  target_gpus:
    description:
      - PCI device IDs (V(0x2b85) or V(10de:2b85)) judged in addition to the GPUs found, for
        example the GPUs a golden image is built for on a build machine that has none.
    type: list
    elements: str
    default: []
  detect:
    description:
      - Look for GPUs on this host. V(false) judges O(target_gpus) only.
    type: bool
    default: true
  unknown_gpu:
    description:
      - What to do with an NVIDIA GPU that is not in the table. V(warn) reports it and goes on.
    type: str
    choices: [warn, fail]
    default: warn
  unknown_version:
    description:
      - What to do with a version the tables have no row for (a CUDA major version newer than the
        collection knows). V(cannot_judge) returns RV(verdict=cannot judge) and RV(compatible=null)
        with one sentence saying what was not judged, never "compatible"; V(fail) makes it a failure.
    type: str
    choices: [cannot_judge, fail]
    default: cannot_judge
  secure_boot:
    description:
      - V(auto) detects the Secure Boot state; V(enabled) or V(disabled) overrides the detection
        (for hosts whose firmware state cannot be read).
    type: str
    choices: [auto, enabled, disabled]
    default: auto
  fail_on_incompatible:
    description:
      - Fail the task when a GPU cannot work with the plan (one sentence per GPU model).
    type: bool
    default: true
  sysfs_path:
    description:
      - Where PCI devices are listed.
    type: path
    default: /sys/bus/pci/devices
  proc_version_path:
    description:
      - The loaded NVIDIA kernel module's version file.
    type: path
    default: /proc/driver/nvidia/version
  efi_path:
    description:
      - The EFI firmware directory (absent on legacy BIOS hosts).
    type: path
    default: /sys/firmware/efi
notes:
  - Table of rules and their sources, and the generated PCI ID table, are in
    C(plugins/module_utils/_nvidia_compat.py); C(scripts/gen-nvidia-pci-table.py) regenerates
    the latter from pci.ids.
seealso:
  - name: NVIDIA open GPU kernel modules
    description: Which GPUs the open modules drive (Turing and newer).
    link: https://github.com/NVIDIA/open-gpu-kernel-modules
  - name: CUDA toolkit release notes
    description: Driver versions each CUDA release needs, and the architectures it supports.
    link: https://docs.nvidia.com/cuda/cuda-toolkit-release-notes/
author:
  - VaultCube engineering (@vaultcube)
"""

EXAMPLES = r"""
- name: Refuse a plan that cannot drive this host's GPUs, before installing anything.
  vaultcube.demobox.nvidia_compat:
    branch: "580"
    flavour: open
    cuda_version: "13.0"

- name: Check the plan for four RTX 5090s on a build machine that has no GPU.
  vaultcube.demobox.nvidia_compat:
    branch: "580"
    cuda_version: "12.8"
    detect: false
    target_gpus: ["0x2b85", "0x2b85", "0x2b85", "0x2b85"]
"""

RETURN = r"""
changed:
  description: Always V(false); the module only reads.
  returned: always
  type: bool
verdict:
  description:
    - V(compatible), V(incompatible), or V(cannot judge) when the plan names something the tables
      do not know (an NVIDIA GPU not in the GPU table, a CUDA major version without a row).
  returned: always
  type: str
  sample: cannot judge
compatible:
  description:
    - V(true) when every GPU model can work with the plan, V(false) when one cannot, V(null) when
      something could not be judged (RV(cannot_judge) says what).
  returned: always
  type: bool
cannot_judge:
  description: One sentence per thing the tables do not know, so not judged.
  returned: always
  type: list
  elements: str
  sample: ["CUDA 14.0 is a major version this collection's CUDA table has no row for (it knows 11, 12 and 13), so
            its driver requirement cannot be judged."]
passed:
  description: Same as RV(compatible).
  returned: always
  type: bool
failures:
  description: One sentence per GPU model that cannot work with the plan, naming it and the fix.
  returned: always
  type: list
  elements: str
  sample: ["NVIDIA GeForce RTX 5090 (PCI 10de:2b85, Blackwell, compute capability 12.0, sm_120) cannot run with
            driver branch 550: use driver branch 570 or newer (nvidia_driver_branch)."]
warnings_found:
  description: Sentences about GPUs or versions that were not judged or work with limits.
  returned: always
  type: list
  elements: str
gpus:
  description: One entry per GPU model judged.
  returned: always
  type: list
  elements: dict
  contains:
    pci_id: {description: Vendor and device ID., type: str, sample: "10de:2b85"}
    name: {description: Product name., type: str, sample: "NVIDIA GeForce RTX 5090"}
    count: {description: How many of this model., type: int, sample: 4}
    known: {description: Whether the model is in the table., type: bool}
    chip: {description: GPU chip., type: str, sample: GB202}
    architecture: {description: Architecture., type: str, sample: blackwell}
    compute_capability: {description: CUDA compute capability., type: str, sample: "12.0"}
    min_branch: {description: Oldest driver branch that drives it (V(null) = not judged)., type: int, sample: 570}
    last_branch: {description: Newest driver branch that drives it (V(null) = no limit)., type: int}
    min_cuda: {description: Oldest CUDA that compiles for it., type: str, sample: "12.8"}
    last_cuda: {description: Newest CUDA that compiles for it (V(null) = no limit)., type: str}
    open_ok: {description: Whether the open kernel modules drive it., type: bool}
    open_required: {description: Whether only the open kernel modules drive it., type: bool}
    verdict: {description: "V(compatible), V(incompatible) or V(unknown).", type: str}
devices:
  description: Every GPU judged, one entry per device, with its PCI slot and where it was found.
  returned: always
  type: list
  elements: dict
  sample: [{"slot": "0000:01:00.0", "device_id": "0x2b85", "source": "sysfs"}]
gpu_count:
  description: Number of NVIDIA GPUs found on this host (not counting O(target_gpus)).
  returned: always
  type: int
detection:
  description: How GPUs were looked for (V(sysfs), V(lspci) or V(none)) and why none were found.
  returned: always
  type: dict
driver:
  description: The NVIDIA driver already loaded on the host.
  returned: always
  type: dict
  contains:
    loaded: {description: Whether an NVIDIA kernel module answers., type: bool}
    version: {description: Driver version., type: str, sample: "580.95.05"}
    branch: {description: Driver branch., type: int, sample: 580}
    flavour: {description: V(open) or V(proprietary) (V(null) when only nvidia-smi answered)., type: str}
    source: {description: Where the version was read., type: str, sample: /proc/driver/nvidia/version}
secure_boot:
  description: Secure Boot state (V(enabled), V(disabled), V(not_efi) or V(unknown)) and where it was read.
  returned: always
  type: dict
  sample: {"state": "disabled", "source": "mokutil"}
plan:
  description: The plan judged.
  returned: always
  type: dict
  sample: {"branch": 580, "flavour": "open", "cuda_version": "13.0"}
msg:
  description: One sentence.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vaultcube.demobox.plugins.module_utils import _nvidia_compat as C

NVIDIA_SMI_DIRS = ["/usr/local/nvidia/bin", "/usr/lib/wsl/lib", "/usr/local/bin"]


def detect_gpus(module):
    """(devices, detection) using sysfs first, then lspci."""
    found = C.scan_sysfs(module.params["sysfs_path"])
    if found is not None:
        return found, {"method": "sysfs", "path": module.params["sysfs_path"]}
    lspci = module.get_bin_path("lspci")
    if lspci:
        rc, out, err = module.run_command([lspci, "-Dn"])
        if rc == 0:
            return C.parse_lspci(out), {"method": "lspci", "path": lspci}
        return [], {"method": "none", "reason": "lspci failed: %s" % (err.strip() or "exit %d" % rc)}
    return [], {"method": "none",
                "reason": "%s is not readable and lspci is not installed" % module.params["sysfs_path"]}


def detect_driver(module):
    path = module.params["proc_version_path"]
    try:
        with open(path) as handle:
            parsed = C.parse_proc_version(handle.read())
    except OSError:
        parsed = None
    if parsed:
        parsed.update({"loaded": True, "source": path})
        return parsed
    smi = module.get_bin_path("nvidia-smi", opt_dirs=NVIDIA_SMI_DIRS)
    if smi:
        rc, out, dummy = module.run_command([smi, "--query-gpu=driver_version", "--format=csv,noheader"])
        lines = [line.strip() for line in out.splitlines() if line.strip()] if rc == 0 else []
        if lines:
            return {"loaded": True, "version": lines[0], "branch": C.branch_number(lines[0]), "flavour": None,
                    "source": smi}
    return {"loaded": False, "version": None, "branch": None, "flavour": None, "source": None}


def detect_secure_boot(module):
    wanted = module.params["secure_boot"]
    if wanted != "auto":
        return {"state": wanted, "source": "setting"}
    mokutil = module.get_bin_path("mokutil")
    if mokutil:
        rc, out, err = module.run_command([mokutil, "--sb-state"])
        state = C.parse_mokutil(out + "\n" + err)
        if state:
            return {"state": state, "source": "mokutil"}
    state = C.secure_boot_from_efivars(module.params["efi_path"])
    return {"state": state or "unknown", "source": "efivars" if state else None}


def run(module):
    params = module.params
    try:
        assumed = [{"slot": None, "device_id": "0x%04x" % C.parse_device_id(v), "source": "target_gpus"}
                   for v in params["target_gpus"]]
        C.branch_number(params["branch"])
        C.parse_version(params["cuda_version"])
    except ValueError as exc:
        module.fail_json(msg="%s." % exc)

    if params["detect"]:
        found, detection = detect_gpus(module)
    else:
        found, detection = [], {"method": "none", "reason": "detection was turned off (detect: false)"}
    if params["detect"] and not found and "reason" not in detection:
        detection["reason"] = "no NVIDIA display controller (vendor 0x10de, class 0x03xx) on the PCI bus"

    devices = found + assumed
    verdict = C.judge([d["device_id"] for d in devices], params["branch"], params["flavour"],
                      params["cuda_version"], params["unknown_gpu"], params["unknown_version"])
    driver = detect_driver(module)
    secure_boot = detect_secure_boot(module)

    if verdict["failures"]:
        msg = " ".join(verdict["failures"])
    elif verdict["cannot_judge"]:
        # Never "suits it" for what the tables do not know.
        msg = "Cannot judge the plan: %s" % " ".join(verdict["cannot_judge"])
    elif devices:
        names = ", ".join("%s%s" % (("%dx " % g["count"]) if g["count"] > 1 else "", g["name"]) for g in verdict["gpus"])
        plan = verdict["plan"]
        parts = []
        if plan["branch"] is not None:
            parts.append("driver branch %d" % plan["branch"])
        if plan["flavour"] != "any":
            parts.append("the %s kernel modules" % plan["flavour"])
        if plan["cuda_version"]:
            parts.append("CUDA %s" % plan["cuda_version"])
        msg = "%s: %s %s %s." % ("Found " + names if found else "Judged " + names, C.join_words(parts),
                                 "suits" if len(parts) == 1 else "suit", "them" if len(devices) > 1 else "it")
    else:
        msg = "Found no NVIDIA GPU: %s." % detection.get("reason")

    return {
        "changed": False,
        "verdict": verdict["verdict"],
        "compatible": verdict["compatible"],
        "passed": verdict["compatible"],
        "failures": verdict["failures"],
        "cannot_judge": verdict["cannot_judge"],
        "warnings_found": verdict["warnings"],
        "gpus": verdict["gpus"],
        "devices": devices,
        "gpu_count": len(found),
        "detection": detection,
        "driver": driver,
        "secure_boot": secure_boot,
        "plan": verdict["plan"],
        "msg": msg,
    }


def main():
    module = AnsibleModule(
        argument_spec=dict(
            branch=dict(type="str"),
            flavour=dict(type="str", choices=["open", "proprietary", "any"], default="open"),
            cuda_version=dict(type="str"),
            target_gpus=dict(type="list", elements="str", default=[]),
            detect=dict(type="bool", default=True),
            unknown_gpu=dict(type="str", choices=["warn", "fail"], default="warn"),
            unknown_version=dict(type="str", choices=list(C.UNKNOWN_VERSION), default="cannot_judge"),
            secure_boot=dict(type="str", choices=["auto", "enabled", "disabled"], default="auto"),
            fail_on_incompatible=dict(type="bool", default=True),
            sysfs_path=dict(type="path", default="/sys/bus/pci/devices"),
            proc_version_path=dict(type="path", default="/proc/driver/nvidia/version"),
            efi_path=dict(type="path", default="/sys/firmware/efi"),
        ),
        supports_check_mode=True,
    )
    result = run(module)
    for text in result["warnings_found"]:
        module.warn(text)
    if result["failures"] and module.params["fail_on_incompatible"]:
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
