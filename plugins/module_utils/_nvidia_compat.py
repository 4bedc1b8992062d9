# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which NVIDIA GPU works with which driver branch, kernel-module flavour and CUDA version.

The one place where this collection keeps those rules, as data, with their sources; and the
logic that judges a host's GPUs against a planned (branch, flavour, CUDA) triple before anything
is installed. GPUs are found by PCI ID (sysfs or ``lspci``), so the judgement works on a bare box
with no driver at all.

Nothing here imports Ansible: the ``nvidia_compat`` module uses it, the unit tests test it
exhaustively, and ``scripts/gen-nvidia-pci-table.py`` regenerates the PCI table at the end.
"""

from __future__ import absolute_import, division, print_function

import os
import re

NVIDIA_VENDOR = 0x10DE
DISPLAY_CLASS = 0x03  # PCI base class "display controller" (0x0300 VGA, 0x0302 3D)

# --- Architectures ---------------------------------------------------------------------------
# open_ok: the open GPU kernel modules drive it. They support Turing and newer only.
#   Source: https://github.com/NVIDIA/open-gpu-kernel-modules (README: "Turing and later GPUs").
# open_required: only the open modules drive it. "For cutting-edge platforms such as NVIDIA Grace
#   Hopper or NVIDIA Blackwell, you must use the open-source GPU kernel modules. The proprietary
#   drivers are unsupported on these platforms."
#   Source: https://developer.nvidia.com/blog/nvidia-transitions-fully-towards-open-source-gpu-kernel-modules/
# last_branch: the newest driver branch that still drives it. R580 is the last branch for
#   Maxwell, Pascal and Volta. Source: NVIDIA Linux driver 580 release announcement and
#   https://docs.nvidia.com/datacenter/tesla/drivers/supported-drivers-and-cuda-toolkit-versions.html
# last_cuda: the newest CUDA toolkit that still builds for it. CUDA 13.0 removed Maxwell, Pascal
#   and Volta (sm_50 to sm_72). Source: CUDA 13.0 release notes,
#   https://docs.nvidia.com/cuda/cuda-toolkit-release-notes/
ARCHITECTURES = {
    "maxwell": {"label": "Maxwell", "open_ok": False, "open_required": False, "last_branch": 580, "last_cuda": (12, 9)},
    "pascal": {"label": "Pascal", "open_ok": False, "open_required": False, "last_branch": 580, "last_cuda": (12, 9)},
    "volta": {"label": "Volta", "open_ok": False, "open_required": False, "last_branch": 580, "last_cuda": (12, 9)},
    "turing": {"label": "Turing", "open_ok": True, "open_required": False, "last_branch": None, "last_cuda": None},
    "ampere": {"label": "Ampere", "open_ok": True, "open_required": False, "last_branch": None, "last_cuda": None},
    "ada": {"label": "Ada Lovelace", "open_ok": True, "open_required": False, "last_branch": None, "last_cuda": None},
    "hopper": {"label": "Hopper", "open_ok": True, "open_required": False, "last_branch": None, "last_cuda": None},
    "blackwell": {"label": "Blackwell", "open_ok": True, "open_required": True, "last_branch": None, "last_cuda": None},
}

# --- Chips -----------------------------------------------------------------------------------
# chip: (architecture, compute capability, first driver branch that drives it)
# Compute capabilities: CUDA C++ Programming Guide, "Compute Capabilities", and
#   https://developer.nvidia.com/cuda-gpus (RTX 5090 = 12.0, B200 = 10.0, B300 = 10.3,
#   GB10 = 12.1, H100/H200 = 9.0, RTX 4090 = 8.9).
# First branch: None = not judged, because every branch the supported distributions still ship
#   (R535 and newer) drives the chip. Blackwell is the exception this table exists for:
#   - GeForce RTX 50 (GB202/GB203/GB205/GB206/GB207): R570 (570.86 launched the RTX 5090;
#     550 does not know the device). Source: NVIDIA Linux driver 570.86.16 release notes.
#   - B100/B200 (GB100/GB102): R570, the first production branch for HGX B200.
#     Source: https://docs.nvidia.com/datacenter/tesla/drivers/ (R570 production branch).
#   - B300/GB300 (GB110) and GB10 / RTX Spark (GB20B): R580. Conservative: these systems ship
#     with R580; an older branch was not verified here.
CHIPS = {
    "GM107": ("maxwell", (5, 0), None),
    "GM108": ("maxwell", (5, 0), None),
    "GM200": ("maxwell", (5, 2), None),
    "GM204": ("maxwell", (5, 2), None),
    "GM206": ("maxwell", (5, 2), None),
    "GP100": ("pascal", (6, 0), None),
    "GP102": ("pascal", (6, 1), None),
    "GP104": ("pascal", (6, 1), None),
    "GP106": ("pascal", (6, 1), None),
    "GP107": ("pascal", (6, 1), None),
    "GP108": ("pascal", (6, 1), None),
    "GV100": ("volta", (7, 0), None),
    "TU102": ("turing", (7, 5), None),
    "TU104": ("turing", (7, 5), None),
    "TU106": ("turing", (7, 5), None),
    "TU116": ("turing", (7, 5), None),
    "TU117": ("turing", (7, 5), None),
    "GA100": ("ampere", (8, 0), None),
    "GA102": ("ampere", (8, 6), None),
    "GA103": ("ampere", (8, 6), None),
    "GA104": ("ampere", (8, 6), None),
    "GA106": ("ampere", (8, 6), None),
    "GA107": ("ampere", (8, 6), None),
    "AD102": ("ada", (8, 9), None),
    "AD103": ("ada", (8, 9), None),
    "AD104": ("ada", (8, 9), None),
    "AD106": ("ada", (8, 9), None),
    "AD107": ("ada", (8, 9), None),
    "GH100": ("hopper", (9, 0), None),
    "GB100": ("blackwell", (10, 0), 570),
    "GB102": ("blackwell", (10, 0), 570),
    "GB110": ("blackwell", (10, 3), 580),
    "GB202": ("blackwell", (12, 0), 570),
    "GB203": ("blackwell", (12, 0), 570),
    "GB205": ("blackwell", (12, 0), 570),
    "GB206": ("blackwell", (12, 0), 570),
    "GB207": ("blackwell", (12, 0), 570),
    "GB20B": ("blackwell", (12, 1), 580),
}

# Devices whose rules differ from their chip's. Grace Hopper (GH200) needs the open modules like
# Blackwell does (same source as open_required above).
DEVICE_OVERRIDES = {
    0x2342: {"open_required": True},  # GH200 120GB / 480GB
    0x2348: {"open_required": True},  # GH200 144G HBM3e
}

# --- CUDA ------------------------------------------------------------------------------------
# The first CUDA toolkit that compiles for each compute capability (sm_XY). Sources: the CUDA
# toolkit release notes of each version: 8.9/9.0 arrived in 11.8; 10.0 and 12.0 (Blackwell) in
# 12.8; 10.3 and 12.1 in 12.9. CUDA 12.6 has no sm_120: an RTX 5090 needs CUDA 12.8 or newer.
CUDA_FIRST_FOR_CAPABILITY = {
    (5, 0): (6, 0),
    (5, 2): (6, 5),
    (6, 0): (8, 0),
    (6, 1): (8, 0),
    (7, 0): (9, 0),
    (7, 5): (10, 0),
    (8, 0): (11, 0),
    (8, 6): (11, 1),
    (8, 9): (11, 8),
    (9, 0): (11, 8),
    (10, 0): (12, 8),
    (10, 3): (12, 9),
    (12, 0): (12, 8),
    (12, 1): (12, 9),
}

# The oldest driver branch a CUDA major version runs on at all (CUDA minor-version
# compatibility): below it, CUDA applications fail to start. Sources: CUDA compatibility guide,
# https://docs.nvidia.com/deploy/cuda-compatibility/ ; and the table "CUDA and Drivers" in
# https://docs.nvidia.com/datacenter/tesla/drivers/supported-drivers-and-cuda-toolkit-versions.html
# (R535/R570: CUDA 12.x; R580: CUDA 13.x).
CUDA_MAJOR_MIN_BRANCH = {11: 450, 12: 525, 13: 580}

# The driver each toolkit release was built with ("CUDA Toolkit and Corresponding Driver
# Versions", Linux x86_64, GA releases). Below it the toolkit still runs through minor-version
# compatibility, with limits (no JIT of its newer PTX): reported as a warning, not refused.
# Source: https://docs.nvidia.com/cuda/cuda-toolkit-release-notes/ (table 3).
CUDA_TOOLKIT_DRIVER = {
    (12, 0): "525.60.13",
    (12, 1): "530.30.02",
    (12, 2): "535.54.03",
    (12, 3): "545.23.06",
    (12, 4): "550.54.14",
    (12, 5): "555.42.02",
    (12, 6): "560.28.03",
    (12, 8): "570.26",
    (12, 9): "575.51.03",
    (13, 0): "580.65.06",
}

# The open modules became the recommended, production-quality choice for GeForce and workstation
# GPUs with R560 (R515 for data-centre GPUs). Older open branches drive them, as beta quality.
# Source: the NVIDIA blog post cited above.
OPEN_PRODUCTION_BRANCH_CONSUMER = 560
CONSUMER_NAME = re.compile(r"GeForce|TITAN|Quadro|RTX", re.I)

FLAVOURS = ("open", "proprietary", "any")  # any: not judged
SETTING_NAMES = {
    "branch": "nvidia_driver_branch",
    "flavour": "nvidia_driver_flavour",
    "cuda": "cuda_version",
}


# --- Parsing ---------------------------------------------------------------------------------
def parse_device_id(value):
    """'0x2b85', '2b85', '10de:2b85', 11141 -> 0x2b85. Raises ValueError on anything else."""
    if isinstance(value, int):
        return value
    text = str(value).strip().lower()
    match = re.match(r"^(?:10de:)?(?:0x)?([0-9a-f]{1,4})$", text)
    if not match:
        raise ValueError("'%s' is not an NVIDIA PCI device ID (expected e.g. 0x2b85 or 10de:2b85)" % value)
    return int(match.group(1), 16)


def branch_number(branch):
    """'580', '580-server', 580, '580.95.05' -> 580; None -> None."""
    if branch is None or branch == "":
        return None
    match = re.match(r"^\s*(\d+)", str(branch))
    if not match:
        raise ValueError("'%s' is not a driver branch (expected e.g. 580 or 580-server)" % branch)
    return int(match.group(1))


def parse_version(text):
    """'12.8' -> (12, 8); '13.0.1' -> (13, 0); None -> None."""
    if text is None or text == "":
        return None
    match = re.match(r"^\s*(\d+)\.(\d+)", str(text))
    if not match:
        raise ValueError("'%s' is not a CUDA version (expected e.g. 12.8 or 13.0)" % text)
    return int(match.group(1)), int(match.group(2))


def fmt_version(pair):
    return "%d.%d" % pair


# --- Looking GPUs up -------------------------------------------------------------------------
def lookup(device_id):
    """Everything the rules know about one PCI device ID; ``known`` False when not in the table."""
    device_id = parse_device_id(device_id)
    row = DEVICES.get(device_id)
    info = {
        "pci_id": "10de:%04x" % device_id,
        "device_id": "0x%04x" % device_id,
        "known": False,
        "name": "NVIDIA GPU 10de:%04x" % device_id,
        "chip": None,
        "architecture": None,
        "architecture_label": None,
        "compute_capability": None,
        "min_branch": None,
        "last_branch": None,
        "last_cuda": None,
        "min_cuda": None,
        "open_ok": None,
        "open_required": None,
    }
    if row is None:
        return info
    chip, product = row
    arch, capability, min_branch = CHIPS[chip]
    rules = dict(ARCHITECTURES[arch])
    rules.update(DEVICE_OVERRIDES.get(device_id, {}))
    info.update({
        "known": True,
        "name": ("NVIDIA " + product) if product else "NVIDIA %s device 10de:%04x" % (chip, device_id),
        "chip": chip,
        "architecture": arch,
        "architecture_label": rules["label"],
        "compute_capability": fmt_version(capability),
        "min_branch": min_branch,
        "last_branch": rules["last_branch"],
        "last_cuda": fmt_version(rules["last_cuda"]) if rules["last_cuda"] else None,
        "min_cuda": fmt_version(CUDA_FIRST_FOR_CAPABILITY[capability]),
        "open_ok": rules["open_ok"],
        "open_required": rules["open_required"],
    })
    return info


def _problems(info, branch, flavour, cuda):
    """(what is wrong, how to fix it) pairs for one known GPU."""
    found = []
    if branch is not None:
        if info["min_branch"] is not None and branch < info["min_branch"]:
            found.append(("driver branch %d" % branch,
                          "driver branch %d or newer (%s)" % (info["min_branch"], SETTING_NAMES["branch"])))
        if info["last_branch"] is not None and branch > info["last_branch"]:
            found.append(("driver branch %d" % branch,
                          "driver branch %d or older (%s)" % (info["last_branch"], SETTING_NAMES["branch"])))
    if flavour == "proprietary" and info["open_required"]:
        found.append(("the proprietary kernel modules",
                      "the open kernel modules (%s: open)" % SETTING_NAMES["flavour"]))
    if flavour == "open" and info["open_ok"] is False:
        found.append(("the open kernel modules",
                      "the proprietary kernel modules (%s: proprietary)" % SETTING_NAMES["flavour"]))
    if cuda is not None:
        first = parse_version(info["min_cuda"])
        if cuda < first:
            found.append(("CUDA %s" % fmt_version(cuda),
                          "CUDA %s or newer (%s)" % (info["min_cuda"], SETTING_NAMES["cuda"])))
        last = parse_version(info["last_cuda"])
        if last is not None and cuda > last:
            found.append(("CUDA %s" % fmt_version(cuda),
                          "CUDA %s or older (%s)" % (info["last_cuda"], SETTING_NAMES["cuda"])))
    return found


def join_words(items):
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _gpu_label(info, count):
    cc = info["compute_capability"]
    detail = "PCI %s, %s, compute capability %s, sm_%s" % (
        info["pci_id"], info["architecture_label"], cc, cc.replace(".", ""))
    prefix = ("%dx " % count) if count > 1 else ""
    return "%s%s (%s)" % (prefix, info["name"], detail)


UNKNOWN_VERSION = ("cannot_judge", "fail")


def judge(device_ids, branch=None, flavour="open", cuda_version=None, unknown_gpu="warn", unknown_version="cannot_judge"):
    """Judge GPUs (PCI device IDs) against a planned driver branch, flavour and CUDA version.

    Returns a dict: ``verdict`` (compatible, incompatible or cannot judge), ``compatible`` (true,
    false, or null when something the plan names is not in the tables: an unknown GPU, a CUDA
    major version without a row), ``failures`` (one sentence per GPU model that cannot work,
    naming the GPU and the fix, plus one per branch/CUDA mismatch), ``cannot_judge`` (one sentence
    per thing not judged), ``warnings``, ``gpus`` (what is known about each model, with its
    verdict) and ``plan``. Something unknown is never called compatible: with
    ``unknown_version="fail"`` (``unknown_gpu="fail"``) it is a failure instead.
    """
    if flavour not in FLAVOURS:
        raise ValueError("flavour must be one of %s, got '%s'" % (", ".join(FLAVOURS), flavour))
    if unknown_gpu not in ("warn", "fail"):
        raise ValueError("unknown_gpu must be warn or fail, got '%s'" % unknown_gpu)
    if unknown_version not in UNKNOWN_VERSION:
        raise ValueError("unknown_version must be cannot_judge or fail, got '%s'" % unknown_version)
    number = branch_number(branch)
    cuda = parse_version(cuda_version)
    failures = []
    warnings = []
    unknown = []

    counts = {}
    order = []
    for value in device_ids:
        device = parse_device_id(value)
        if device not in counts:
            order.append(device)
            counts[device] = 0
        counts[device] += 1

    gpus = []
    for device in order:
        info = lookup(device)
        info["count"] = counts[device]
        if not info["known"]:
            text = ("%s is not in this collection's GPU table (pci.ids %s), so the driver branch, flavour and CUDA "
                    "version were not judged for it" % (info["name"], PCI_IDS_VERSION))
            info["verdict"] = "unknown"
            if unknown_gpu == "fail":
                failures.append(text + ": check NVIDIA's supported-GPU list, then set nvidia_driver_precheck_unknown_gpu: warn.")
            else:
                warnings.append(text + ".")
                unknown.append(text + ".")
            gpus.append(info)
            continue
        problems = _problems(info, number, flavour, cuda)
        if problems:
            info["verdict"] = "incompatible"
            failures.append("%s cannot run with %s: use %s." % (
                _gpu_label(info, info["count"]), join_words(dict.fromkeys(p[0] for p in problems)),
                join_words(dict.fromkeys(p[1] for p in problems))))
        else:
            info["verdict"] = "compatible"
            consumer = bool(CONSUMER_NAME.search(info["name"])) and "Server" not in info["name"]
            if (flavour == "open" and number is not None and consumer
                    and number < OPEN_PRODUCTION_BRANCH_CONSUMER):
                warnings.append("%s runs the open kernel modules of branch %d as beta quality; NVIDIA recommends "
                                "them for GeForce and workstation GPUs from branch %d on." % (
                                    info["name"], number, OPEN_PRODUCTION_BRANCH_CONSUMER))
        gpus.append(info)

    if cuda is not None and number is not None:
        floor = CUDA_MAJOR_MIN_BRANCH.get(cuda[0])
        if floor is None:
            text = "CUDA %s is a major version this collection's CUDA table has no row for (it knows %s), so its driver " \
                   "requirement cannot be judged" % (fmt_version(cuda), join_words(str(m) for m in sorted(CUDA_MAJOR_MIN_BRANCH)))
            if unknown_version == "fail":
                failures.append(text + ": use a CUDA version it knows, or set unknown_version: cannot_judge to go on unjudged.")
            else:
                warnings.append(text + ".")
                unknown.append(text + ".")
        elif number < floor:
            failures.append("CUDA %s needs driver branch %d or newer, but %s is %d: set %s to %d or newer, "
                            "or %s to an older major version." % (
                                fmt_version(cuda), floor, SETTING_NAMES["branch"], number, SETTING_NAMES["branch"],
                                floor, SETTING_NAMES["cuda"]))
        else:
            built_with = CUDA_TOOLKIT_DRIVER.get(cuda)
            if built_with is None:
                warnings.append("CUDA %s is not in this collection's CUDA table; only its major version's minimum "
                                "driver branch (%d) was judged." % (fmt_version(cuda), floor))
            elif number < branch_number(built_with):
                warnings.append("CUDA %s was released with driver %s; branch %d runs it through CUDA minor-version "
                                "compatibility, which cannot JIT-compile its newer PTX." % (
                                    fmt_version(cuda), built_with, number))

    plan = {"branch": number, "flavour": flavour, "cuda_version": fmt_version(cuda) if cuda else None}
    if failures:
        verdict = "incompatible"
    elif unknown:
        verdict = "cannot judge"
    else:
        verdict = "compatible"
    return {
        "verdict": verdict,
        "compatible": {"compatible": True, "incompatible": False}.get(verdict),
        "failures": failures,
        "cannot_judge": unknown,
        "warnings": warnings,
        "gpus": gpus,
        "plan": plan,
    }


# --- Finding GPUs on the host (no driver needed) ---------------------------------------------
def _read(path):
    try:
        with open(path) as handle:
            return handle.read().strip()
    except OSError:
        return None


def scan_sysfs(root="/sys/bus/pci/devices"):
    """NVIDIA display controllers on the PCI bus, from sysfs. None when sysfs is not readable."""
    try:
        entries = sorted(os.listdir(root))
    except OSError:
        return None
    found = []
    for slot in entries:
        base = os.path.join(root, slot)
        vendor = _read(os.path.join(base, "vendor"))
        device = _read(os.path.join(base, "device"))
        pci_class = _read(os.path.join(base, "class"))
        if vendor is None or device is None or pci_class is None:
            continue
        try:
            if int(vendor, 16) != NVIDIA_VENDOR or (int(pci_class, 16) >> 16) != DISPLAY_CLASS:
                continue
            found.append({"slot": slot, "device_id": "0x%04x" % int(device, 16), "source": "sysfs"})
        except ValueError:
            continue
    return found


LSPCI_LINE = re.compile(
    r"^(?P<slot>[0-9a-fA-F:.]+)\s+(?P<cls>03[0-9a-fA-F]{2}):\s+10de:(?P<dev>[0-9a-fA-F]{4})", re.M)


def parse_lspci(text):
    """NVIDIA display controllers from ``lspci -Dn`` output."""
    return [{"slot": m.group("slot"), "device_id": "0x%s" % m.group("dev").lower(), "source": "lspci"}
            for m in LSPCI_LINE.finditer(text or "")]


# --- The driver that is there already --------------------------------------------------------
PROC_VERSION = re.compile(r"NVRM version:(?P<line>[^\n]*?)\s(?P<version>\d+\.\d+(?:\.\d+)?)(?:\s|$)")


def parse_proc_version(text):
    """Parse /proc/driver/nvidia/version: {'version', 'branch', 'flavour'} or None.

    Open:        NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.95.05  Release Build ...
    Proprietary: NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.163.01  Wed ...
    """
    if not text:
        return None
    match = PROC_VERSION.search(text)
    if not match:
        return None
    version = match.group("version")
    return {
        "version": version,
        "branch": branch_number(version),
        "flavour": "open" if "Open Kernel Module" in match.group("line") else "proprietary",
    }


# --- Secure Boot -----------------------------------------------------------------------------
SECURE_BOOT_EFIVAR = "SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"


def parse_mokutil(text):
    """``mokutil --sb-state`` output -> 'enabled', 'disabled', 'not_efi' or None."""
    low = (text or "").lower()
    if "secureboot enabled" in low:
        return "enabled"
    if "secureboot disabled" in low:
        return "disabled"
    if "not supported" in low or "efi variables are not supported" in low:
        return "not_efi"
    return None


def secure_boot_from_efivars(efi_root="/sys/firmware/efi"):
    """Read the SecureBoot EFI variable: 'enabled', 'disabled', 'not_efi' (legacy BIOS) or None."""
    if not os.path.isdir(efi_root):
        return "not_efi"
    path = os.path.join(efi_root, "efivars", SECURE_BOOT_EFIVAR)
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    # 4 bytes of attributes, then the value byte.
    if len(data) >= 5:
        return "enabled" if bytearray(data)[4] == 1 else "disabled"
    return None


# BEGIN GENERATED PCI TABLE
# Source: pci.ids version 2026.10.24 (the PCI ID Repository, https://pci-ids.ucw.cz; Debian
# package pci.ids). Regenerate with scripts/gen-nvidia-pci-table.py; do not edit by hand.
# device id: (chip, product name as pci.ids spells it)
PCI_IDS_VERSION = '2026.10.24'
DEVICES = {
    0x1340: ('GM108', 'GeForce 830M'),
    0x1341: ('GM108', 'GeForce 840M'),
    0x1344: ('GM108', 'GeForce 845M'),
    0x1346: ('GM108', 'GeForce 930M'),
    0x1347: ('GM108', 'GeForce 940M'),
    0x1348: ('GM108', 'GeForce 945M / 945A'),
    0x1349: ('GM108', 'GeForce 930M'),
    0x134b: ('GM108', 'GeForce 940MX'),
    0x134d: ('GM108', 'GeForce 940MX'),
    0x134e: ('GM108', 'GeForce 930MX'),
    0x134f: ('GM108', 'GeForce 920MX'),
    0x137a: ('GM108', 'Quadro K620M / Quadro M500M'),
    0x137b: ('GM108', 'Quadro M520 Mobile'),
    0x137d: ('GM108', 'GeForce 940A'),
    0x1380: ('GM107', 'GeForce GTX 750 Ti'),
    0x1381: ('GM107', 'GeForce GTX 750'),
    0x1382: ('GM107', 'GeForce GTX 745'),
    0x1389: ('GM107', 'GRID M30'),
    0x1390: ('GM107', 'GeForce 845M'),
    0x1391: ('GM107', 'GeForce GTX 850M'),
    0x1392: ('GM107', 'GeForce GTX 860M'),
    0x1393: ('GM107', 'GeForce 840M'),
    0x1398: ('GM107', 'GeForce 845M'),
    0x1399: ('GM107', 'GeForce 945M'),
    0x139a: ('GM107', 'GeForce GTX 950M'),
    0x139b: ('GM107', 'GeForce GTX 960M'),
    0x139c: ('GM107', 'GeForce 940M'),
    0x139d: ('GM107', 'GeForce GTX 750 Ti'),
    0x13ad: ('GM204', 'GM107 INT52'),
    0x13ae: ('GM204', 'GM107 CS1'),
    0x13b0: ('GM107', 'Quadro M2000M'),
    0x13b1: ('GM107', 'Quadro M1000M'),
    0x13b2: ('GM107', 'Quadro M600M'),
    0x13b3: ('GM107', 'Quadro K2200M'),
    0x13b4: ('GM107', 'Quadro M620 Mobile'),
    0x13b6: ('GM107', 'Quadro M1200 Mobile'),
    0x13b9: ('GM107', 'NVS 810'),
    0x13ba: ('GM107', 'Quadro K2200'),
    0x13bb: ('GM107', 'Quadro K620'),
    0x13bc: ('GM107', 'Quadro K1200'),
    0x13bd: ('GM107', 'Tesla M10'),
    0x13be: ('GM204', 'GM107 CS1'),
    0x13bf: ('GM204', 'GM107 INT52'),
    0x13c0: ('GM204', 'GeForce GTX 980'),
    0x13c1: ('GM204', ''),
    0x13c2: ('GM204', 'GeForce GTX 970'),
    0x13c3: ('GM204', ''),
    0x13c4: ('GM204', 'D17U-20'),
    0x13d7: ('GM204', 'GeForce GTX 980M'),
    0x13d8: ('GM204', 'GeForce GTX 960 OEM / 970M'),
    0x13d9: ('GM204', 'GeForce GTX 965M'),
    0x13da: ('GM204', 'GeForce GTX 980 Mobile'),
    0x13e4: ('GM204', 'Graphics Device ES-A'),
    0x13e7: ('GM204', 'GeForce GTX 980 Engineering Sample'),
    0x13f0: ('GM204', 'Quadro M5000'),
    0x13f1: ('GM204', 'Quadro M4000'),
    0x13f2: ('GM204', 'Tesla M60'),
    0x13f3: ('GM204', 'Tesla M6'),
    0x13f8: ('GM204', 'Quadro M5000M / M5000 SE'),
    0x13f9: ('GM204', 'Quadro M4000M'),
    0x13fa: ('GM204', 'Quadro M3000M'),
    0x13fb: ('GM204', 'Quadro M5500'),
    0x1401: ('GM206', 'GeForce GTX 960'),
    0x1402: ('GM206', 'GeForce GTX 950'),
    0x1404: ('GM206', 'GeForce GTX 960 FAKE'),
    0x1406: ('GM206', 'GeForce GTX 960 OEM'),
    0x1407: ('GM206', 'GeForce GTX 750 v2'),
    0x1427: ('GM206', 'GeForce GTX 965M'),
    0x1430: ('GM206', 'Quadro M2000'),
    0x1431: ('GM206', 'Tesla M4'),
    0x1436: ('GM206', 'Quadro M2200 Mobile'),
    0x15c2: ('GP100', 'CMP 100-100'),
    0x15f0: ('GP100', 'Quadro GP100'),
    0x15f1: ('GP100', ''),
    0x15f7: ('GP100', 'Tesla P100 PCIe 12GB'),
    0x15f8: ('GP100', 'Tesla P100 PCIe 16GB'),
    0x15f9: ('GP100', 'Tesla P100 SXM2 16GB'),
    0x15fa: ('GP100', 'DGX Station / PH402 SKU 200'),
    0x15fb: ('GP100', 'GP100 SKU 200'),
    0x15fc: ('GP100', 'Tesla P100-DGXS-16GB'),
    0x15ff: ('GP100', 'GP100 SKU 15ff'),
    0x1613: ('GM204', 'GRID M60 Service Provider'),
    0x1617: ('GM204', 'GeForce GTX 980M'),
    0x1618: ('GM204', 'GeForce GTX 970M'),
    0x1619: ('GM204', 'GeForce GTX 965M'),
    0x161a: ('GM204', 'GeForce GTX 980 Mobile'),
    0x1667: ('GM204', 'GeForce GTX 965M'),
    0x1676: ('GM204', 'Quadro M2200 Mobile'),
    0x1725: ('GP100', ''),
    0x172e: ('GP100', ''),
    0x172f: ('GP100', ''),
    0x174d: ('GM108', 'GeForce MX130'),
    0x174e: ('GM108', 'GeForce MX110'),
    0x1789: ('GM107', 'GRID M3-3020'),
    0x179c: ('GM107', 'GeForce 940MX'),
    0x17c2: ('GM200', 'GeForce GTX TITAN X'),
    0x17c8: ('GM200', 'GeForce GTX 980 Ti'),
    0x17f0: ('GM200', 'Quadro M6000'),
    0x17f1: ('GM200', 'Quadro M6000 24GB'),
    0x17fd: ('GM200', 'Tesla M40'),
    0x1b00: ('GP102', 'TITAN X Pascal'),
    0x1b01: ('GP102', 'GeForce GTX 1080 Ti 10GB'),
    0x1b02: ('GP102', 'TITAN Xp'),
    0x1b04: ('GP102', ''),
    0x1b06: ('GP102', 'GeForce GTX 1080 Ti'),
    0x1b07: ('GP102', 'P102-100'),
    0x1b30: ('GP102', 'Quadro P6000'),
    0x1b38: ('GP102', 'Tesla P40'),
    0x1b39: ('GP102', 'Tesla P10'),
    0x1b70: ('GP102', ''),
    0x1b78: ('GP102', ''),
    0x1b80: ('GP104', 'GeForce GTX 1080'),
    0x1b81: ('GP104', 'GeForce GTX 1070'),
    0x1b82: ('GP104', 'GeForce GTX 1070 Ti'),
    0x1b83: ('GP104', 'GeForce GTX 1060 6GB'),
    0x1b84: ('GP104', 'GeForce GTX 1060 3GB'),
    0x1b87: ('GP104', 'P104-100'),
    0x1ba0: ('GP104', 'GeForce GTX 1080 Mobile'),
    0x1ba1: ('GP104', 'GeForce GTX 1070 Mobile'),
    0x1ba2: ('GP104', 'GeForce GTX 1070 Mobile'),
    0x1ba9: ('GP104', ''),
    0x1baa: ('GP104', ''),
    0x1bad: ('GP104', 'GeForce GTX 1070 Engineering Sample'),
    0x1bb0: ('GP104', 'Quadro P5000'),
    0x1bb1: ('GP104', 'Quadro P4000'),
    0x1bb3: ('GP104', 'Tesla P4'),
    0x1bb4: ('GP104', 'Tesla P6'),
    0x1bb5: ('GP104', 'Quadro P5200 Mobile'),
    0x1bb6: ('GP104', 'Quadro P5000 Mobile'),
    0x1bb7: ('GP104', 'Quadro P4000 Mobile'),
    0x1bb8: ('GP104', 'Quadro P3000 Mobile'),
    0x1bb9: ('GP104', 'Quadro P4200 Mobile'),
    0x1bbb: ('GP104', 'Quadro P3200 Mobile'),
    0x1bc7: ('GP104', 'P104-101'),
    0x1be0: ('GP104', 'GeForce GTX 1080 Mobile'),
    0x1be1: ('GP104', 'GeForce GTX 1070 Mobile'),
    0x1c00: ('GP106', ''),
    0x1c01: ('GP106', ''),
    0x1c02: ('GP106', 'GeForce GTX 1060 3GB'),
    0x1c03: ('GP106', 'GeForce GTX 1060 6GB'),
    0x1c04: ('GP106', 'GeForce GTX 1060 5GB'),
    0x1c06: ('GP106', 'GeForce GTX 1060 6GB Rev. 2'),
    0x1c07: ('GP106', 'P106-100'),
    0x1c09: ('GP106', 'P106-090'),
    0x1c20: ('GP106', 'GeForce GTX 1060 Mobile'),
    0x1c21: ('GP106', 'GeForce GTX 1050 Ti Mobile'),
    0x1c22: ('GP106', 'GeForce GTX 1050 Mobile'),
    0x1c23: ('GP106', 'GeForce GTX 1060 Mobile Rev. 2'),
    0x1c2d: ('GP106', ''),
    0x1c30: ('GP106', 'Quadro P2000'),
    0x1c31: ('GP106', 'Quadro P2200'),
    0x1c35: ('GP106', 'Quadro P2000 Mobile / DRIVE PX 2 AutoChauffeur'),
    0x1c36: ('GP106', 'P106M'),
    0x1c60: ('GP106', 'GeForce GTX 1060 Mobile 6GB'),
    0x1c61: ('GP106', 'GeForce GTX 1050 Ti Mobile'),
    0x1c62: ('GP106', 'GeForce GTX 1050 Mobile'),
    0x1c70: ('GP106', ''),
    0x1c81: ('GP107', 'GeForce GTX 1050'),
    0x1c82: ('GP107', 'GeForce GTX 1050 Ti'),
    0x1c83: ('GP107', 'GeForce GTX 1050 3GB'),
    0x1c8c: ('GP107', 'GeForce GTX 1050 Ti Mobile'),
    0x1c8d: ('GP107', 'GeForce GTX 1050 Mobile'),
    0x1c8e: ('GP107', ''),
    0x1c8f: ('GP107', 'GeForce GTX 1050 Ti Max-Q'),
    0x1c90: ('GP107', 'GeForce MX150'),
    0x1c91: ('GP107', 'GeForce GTX 1050 3 GB Max-Q'),
    0x1c92: ('GP107', 'GeForce GTX 1050 Mobile'),
    0x1c94: ('GP107', 'GeForce MX350'),
    0x1c96: ('GP107', 'GeForce MX350'),
    0x1ca7: ('GP107', ''),
    0x1ca8: ('GP107', ''),
    0x1caa: ('GP107', ''),
    0x1cb1: ('GP107', 'Quadro P1000'),
    0x1cb2: ('GP107', 'Quadro P600'),
    0x1cb3: ('GP107', 'Quadro P400'),
    0x1cb6: ('GP107', 'Quadro P620'),
    0x1cba: ('GP107', 'Quadro P2000 Mobile'),
    0x1cbb: ('GP107', 'Quadro P1000 Mobile'),
    0x1cbc: ('GP107', 'Quadro P600 Mobile'),
    0x1cbd: ('GP107', 'Quadro P620'),
    0x1ccc: ('GP107', 'GeForce GTX 1050 Ti Mobile'),
    0x1ccd: ('GP107', 'GeForce GTX 1050 Mobile'),
    0x1cfa: ('GP107', 'Quadro P2000'),
    0x1cfb: ('GP107', 'Quadro P1000'),
    0x1d01: ('GP108', 'GeForce GT 1030'),
    0x1d02: ('GP108', 'GeForce GT 1010'),
    0x1d10: ('GP108', 'GeForce MX150'),
    0x1d11: ('GP108', 'GeForce MX230'),
    0x1d12: ('GP108', 'GeForce MX150'),
    0x1d13: ('GP108', 'GeForce MX250'),
    0x1d16: ('GP108', 'GeForce MX330'),
    0x1d33: ('GP108', 'Quadro P500 Mobile'),
    0x1d34: ('GP108', 'Quadro P520'),
    0x1d52: ('GP108', 'GeForce MX250'),
    0x1d56: ('GP108', 'GeForce MX330'),
    0x1d81: ('GV100', 'TITAN V'),
    0x1d83: ('GV100', 'CMP 100-200'),
    0x1d84: ('GV100', 'CMP 100-210'),
    0x1db0: ('GV100', 'Tesla GV100 SXM2-16GB SKU 890'),
    0x1db1: ('GV100', 'Tesla V100 SXM2 16GB'),
    0x1db2: ('GV100', 'Tesla V100 DGXS 16GB'),
    0x1db3: ('GV100', 'Tesla V100 FHHL 16GB'),
    0x1db4: ('GV100', 'Tesla V100 PCIe 16GB'),
    0x1db5: ('GV100', 'Tesla V100 SXM2 32GB'),
    0x1db6: ('GV100', 'Tesla V100 PCIe 32GB'),
    0x1db7: ('GV100', 'Tesla V100 DGXS 32GB'),
    0x1db8: ('GV100', 'Tesla V100 SXM3 32GB'),
    0x1dba: ('GV100', 'Quadro GV100'),
    0x1dbd: ('GV100', 'Tesla GV100 DGX1-V'),
    0x1dbe: ('GV100', ''),
    0x1dc1: ('GV100', 'CMP 100-200'),
    0x1df0: ('GV100', 'Tesla PG500-216'),
    0x1df2: ('GV100', 'Tesla PG503-216'),
    0x1df4: ('GV100', 'CMP 100-210'),
    0x1df5: ('GV100', 'Tesla V100 SXM2 16GB'),
    0x1df6: ('GV100', 'Tesla V100S PCIe 32GB'),
    0x1e02: ('TU102', 'TITAN RTX'),
    0x1e03: ('TU102', 'GeForce RTX 2080 Ti 12GB'),
    0x1e04: ('TU102', 'GeForce RTX 2080 Ti'),
    0x1e07: ('TU102', 'GeForce RTX 2080 Ti Rev. A'),
    0x1e09: ('TU102', 'CMP 50HX'),
    0x1e2d: ('TU102', 'GeForce RTX 2080 Ti Engineering Sample'),
    0x1e2e: ('TU102', 'GeForce RTX 2080 Ti 12GB Engineering Sample'),
    0x1e30: ('TU102', 'Quadro RTX 6000/8000'),
    0x1e35: ('TU102', 'Tesla T10'),
    0x1e36: ('TU102', 'Quadro RTX 6000'),
    0x1e37: ('TU102', 'Tesla T10 16GB / GRID RTX T10-2/T10-4/T10-8'),
    0x1e38: ('TU102', 'Tesla T40 24GB'),
    0x1e3c: ('TU102', ''),
    0x1e3d: ('TU102', ''),
    0x1e3e: ('TU102', ''),
    0x1e78: ('TU102', 'Quadro RTX 6000/8000'),
    0x1e81: ('TU104', 'GeForce RTX 2080 SUPER'),
    0x1e82: ('TU104', 'GeForce RTX 2080'),
    0x1e84: ('TU104', 'GeForce RTX 2070 SUPER'),
    0x1e87: ('TU104', 'GeForce RTX 2080 Rev. A'),
    0x1e89: ('TU104', 'GeForce RTX 2060'),
    0x1e90: ('TU104', 'GeForce RTX 2080 Mobile'),
    0x1e91: ('TU104', 'GeForce RTX 2070 SUPER Mobile / Max-Q'),
    0x1e93: ('TU104', 'GeForce RTX 2080 SUPER Mobile / Max-Q'),
    0x1eab: ('TU104', ''),
    0x1eae: ('TU104', 'GeForce GTX 2080 Engineering Sample'),
    0x1eb0: ('TU104', 'Quadro RTX 5000'),
    0x1eb1: ('TU104', 'Quadro RTX 4000'),
    0x1eb4: ('TU104', 'T4G'),
    0x1eb5: ('TU104', 'Quadro RTX 5000 Mobile / Max-Q'),
    0x1eb6: ('TU104', 'Quadro RTX 4000 Mobile / Max-Q'),
    0x1eb8: ('TU104', 'Tesla T4'),
    0x1eb9: ('TU104', ''),
    0x1eba: ('TU104', 'PG189 SKU600'),
    0x1ebe: ('TU104', ''),
    0x1ec2: ('TU104', 'GeForce RTX 2070 SUPER'),
    0x1ec7: ('TU104', 'GeForce RTX 2070 SUPER'),
    0x1ed0: ('TU104', 'GeForce RTX 2080 Mobile'),
    0x1ed1: ('TU104', 'GeForce RTX 2070 SUPER Mobile / Max-Q'),
    0x1ed3: ('TU104', 'GeForce RTX 2080 SUPER Mobile / Max-Q'),
    0x1ef5: ('TU104', 'Quadro RTX 5000 Mobile Refresh'),
    0x1f02: ('TU106', 'GeForce RTX 2070'),
    0x1f03: ('TU106', 'GeForce RTX 2060 12GB'),
    0x1f04: ('TU106', ''),
    0x1f06: ('TU106', 'GeForce RTX 2060 SUPER'),
    0x1f07: ('TU106', 'GeForce RTX 2070 Rev. A'),
    0x1f08: ('TU106', 'GeForce RTX 2060 Rev. A'),
    0x1f09: ('TU106', 'GeForce GTX 1660 SUPER'),
    0x1f0a: ('TU106', 'GeForce GTX 1650'),
    0x1f0b: ('TU106', 'CMP 40HX'),
    0x1f10: ('TU106', 'GeForce RTX 2070 Mobile'),
    0x1f11: ('TU106', 'GeForce RTX 2060 Mobile'),
    0x1f12: ('TU106', 'GeForce RTX 2060 Max-Q'),
    0x1f14: ('TU106', 'GeForce RTX 2070 Mobile / Max-Q Refresh'),
    0x1f15: ('TU106', 'GeForce RTX 2060 Mobile'),
    0x1f2e: ('TU106', ''),
    0x1f36: ('TU106', 'Quadro RTX 3000 Mobile / Max-Q'),
    0x1f42: ('TU106', 'GeForce RTX 2060 SUPER'),
    0x1f47: ('TU106', 'GeForce RTX 2060 SUPER'),
    0x1f50: ('TU106', 'GeForce RTX 2070 Mobile / Max-Q'),
    0x1f51: ('TU106', 'GeForce RTX 2060 Mobile'),
    0x1f54: ('TU106', 'GeForce RTX 2070 Mobile'),
    0x1f55: ('TU106', 'GeForce RTX 2060 Mobile'),
    0x1f76: ('TU106', 'Quadro RTX 3000 Mobile Refresh'),
    0x1f81: ('TU117', ''),
    0x1f82: ('TU117', 'GeForce GTX 1650'),
    0x1f83: ('TU117', 'GeForce GTX 1630'),
    0x1f91: ('TU117', 'GeForce GTX 1650 Mobile / Max-Q'),
    0x1f92: ('TU117', 'GeForce GTX 1650 Mobile'),
    0x1f94: ('TU117', 'GeForce GTX 1650 Mobile'),
    0x1f95: ('TU117', 'GeForce GTX 1650 Ti Mobile'),
    0x1f96: ('TU117', 'GeForce GTX 1650 Mobile / Max-Q'),
    0x1f97: ('TU117', 'GeForce MX450'),
    0x1f98: ('TU117', 'GeForce MX450'),
    0x1f99: ('TU117', 'GeForce GTX 1650 Mobile / Max-Q'),
    0x1f9c: ('TU117', 'GeForce MX450'),
    0x1f9d: ('TU117', 'GeForce GTX 1650 Mobile / Max-Q'),
    0x1f9f: ('TU117', 'GeForce MX550'),
    0x1fa0: ('TU117', 'GeForce MX550'),
    0x1fa1: ('TU117', ''),
    0x1fae: ('TU117', ''),
    0x1fb0: ('TU117', 'Quadro T1000 Mobile'),
    0x1fb1: ('TU117', 'T600'),
    0x1fb2: ('TU117', 'Quadro T400 Mobile'),
    0x1fb6: ('TU117', 'T600 Laptop GPU'),
    0x1fb7: ('TU117', 'T550 Laptop GPU'),
    0x1fb8: ('TU117', 'Quadro T2000 Mobile / Max-Q'),
    0x1fb9: ('TU117', 'Quadro T1000 Mobile'),
    0x1fba: ('TU117', 'T600 Mobile'),
    0x1fbb: ('TU117', 'Quadro T500 Mobile'),
    0x1fbc: ('TU117', 'T1200 Laptop GPU'),
    0x1fbf: ('TU117', ''),
    0x1fd9: ('TU117', 'GeForce GTX 1650 Mobile Refresh'),
    0x1fdd: ('TU117', 'GeForce GTX 1650 Mobile Refresh'),
    0x1ff0: ('TU117', 'T1000 8GB'),
    0x1ff2: ('TU117', 'T400 4GB / T400E'),
    0x1ff9: ('TU117', 'Quadro T1000 Mobile'),
    0x2080: ('GA100', ''),
    0x2081: ('GA100', ''),
    0x2082: ('GA100', 'CMP 170HX'),
    0x20b0: ('GA100', 'A100 SXM4 40GB'),
    0x20b1: ('GA100', 'A100 PCIe 40GB'),
    0x20b2: ('GA100', 'A100 SXM4 80GB'),
    0x20b3: ('GA100', 'A100-SXM-64GB'),
    0x20b4: ('GA100', ''),
    0x20b5: ('GA100', 'A100 PCIe 80GB'),
    0x20b6: ('GA100', 'PG506-232'),
    0x20b7: ('GA100', 'A30 PCIe'),
    0x20b8: ('GA100', 'A100X'),
    0x20b9: ('GA100', 'A30X'),
    0x20bb: ('GA100', 'DRIVE A100 PROD'),
    0x20bd: ('GA100', 'A800 SXM4 40GB'),
    0x20be: ('GA100', 'GRID A100A'),
    0x20bf: ('GA100', 'GRID A100B'),
    0x20c0: ('GA100', 'Initial DevID'),
    0x20c2: ('GA100', 'CMP 170HX'),
    0x20f0: ('GA100', 'A100-PG506-207'),
    0x20f1: ('GA100', 'A100 PCIe 40GB'),
    0x20f2: ('GA100', 'A100-PG506-217'),
    0x20f3: ('GA100', 'A800-SXM4-80GB'),
    0x20f5: ('GA100', 'A800 80GB PCIe'),
    0x20f6: ('GA100', 'A800 40GB PCIe'),
    0x20fd: ('GA100', 'AX800 Converged Accelerator'),
    0x20fe: ('GA100', 'INT SKU'),
    0x20ff: ('GA100', ''),
    0x2182: ('TU116', 'GeForce GTX 1660 Ti'),
    0x2183: ('TU116', ''),
    0x2184: ('TU116', 'GeForce GTX 1660'),
    0x2186: ('TU116', 'PG160 SKU18'),
    0x2187: ('TU116', 'GeForce GTX 1650 SUPER'),
    0x2188: ('TU116', 'GeForce GTX 1650'),
    0x2189: ('TU116', 'CMP 30HX'),
    0x2191: ('TU116', 'GeForce GTX 1660 Ti Mobile'),
    0x2192: ('TU116', 'GeForce GTX 1650 Ti Mobile'),
    0x21ae: ('TU116', ''),
    0x21bf: ('TU116', ''),
    0x21c2: ('TU116', ''),
    0x21c3: ('TU116', ''),
    0x21c4: ('TU116', 'GeForce GTX 1660 SUPER'),
    0x21d1: ('TU116', 'GeForce GTX 1660 Ti Mobile'),
    0x2200: ('GA102', ''),
    0x2203: ('GA102', 'GeForce RTX 3090 Ti'),
    0x2204: ('GA102', 'GeForce RTX 3090'),
    0x2205: ('GA102', 'GeForce RTX 3080 Ti 20GB'),
    0x2206: ('GA102', 'GeForce RTX 3080'),
    0x2207: ('GA102', 'GeForce RTX 3070 Ti'),
    0x2208: ('GA102', 'GeForce RTX 3080 Ti'),
    0x220a: ('GA102', 'GeForce RTX 3080 12GB'),
    0x220d: ('GA102', 'CMP 90HX'),
    0x2216: ('GA102', 'GeForce RTX 3080 Lite Hash Rate'),
    0x222b: ('GA102', 'GeForce RTX 3090 Engineering Sample'),
    0x222f: ('GA102', 'GeForce RTX 3080 11GB / 12GB Engineering Sample'),
    0x2230: ('GA102', 'RTX A6000'),
    0x2231: ('GA102', 'RTX A5000'),
    0x2232: ('GA102', 'RTX A4500'),
    0x2233: ('GA102', 'RTX A5500'),
    0x2235: ('GA102', 'A40'),
    0x2236: ('GA102', 'A10'),
    0x2237: ('GA102', 'A10G'),
    0x2238: ('GA102', 'A10M'),
    0x223f: ('GA102', ''),
    0x2302: ('GH100', ''),
    0x230c: ('GH100', 'H20 NVL16'),
    0x230e: ('GH100', 'H20 NVL16'),
    0x2313: ('GH100', 'H100 CNX'),
    0x2321: ('GH100', 'H100L 94GB'),
    0x2322: ('GH100', 'H800 PCIe'),
    0x2324: ('GH100', 'H800'),
    0x2328: ('GH100', 'H20B'),
    0x2329: ('GH100', 'H20'),
    0x232c: ('GH100', 'H20 HBM3e'),
    0x2330: ('GH100', 'H100 SXM5 80GB'),
    0x2331: ('GH100', 'H100 PCIe'),
    0x2335: ('GH100', 'H200 SXM 141GB'),
    0x2336: ('GH100', 'H100'),
    0x2337: ('GH100', 'H100 SXM5 64GB'),
    0x2338: ('GH100', 'H100 SXM5 96GB'),
    0x2339: ('GH100', 'H100 SXM5 94GB'),
    0x233a: ('GH100', 'H800L 94GB'),
    0x233b: ('GH100', 'H200 NVL'),
    0x233d: ('GH100', 'H100 96GB'),
    0x2342: ('GH100', 'GH200 120GB / 480GB'),
    0x2343: ('GH100', ''),
    0x2345: ('GH100', 'GH100-88K-A1'),
    0x2348: ('GH100', 'GH200 144G HBM3e'),
    0x237e: ('GH100', 'H100 GH3'),
    0x237f: ('GH100', 'Skinny Joe'),
    0x23b0: ('GH100', ''),
    0x23f0: ('GH100', ''),
    0x2414: ('GA103', 'GeForce RTX 3060 Ti'),
    0x2420: ('GA103', 'GeForce RTX 3080 Ti Mobile'),
    0x2438: ('GA103', 'RTX A5500 Laptop GPU'),
    0x2460: ('GA103', 'GeForce RTX 3080 Ti Laptop GPU'),
    0x2482: ('GA104', 'GeForce RTX 3070 Ti'),
    0x2483: ('GA104', ''),
    0x2484: ('GA104', 'GeForce RTX 3070'),
    0x2486: ('GA104', 'GeForce RTX 3060 Ti'),
    0x2487: ('GA104', 'GeForce RTX 3060'),
    0x2488: ('GA104', 'GeForce RTX 3070 Lite Hash Rate'),
    0x2489: ('GA104', 'GeForce RTX 3060 Ti Lite Hash Rate'),
    0x248a: ('GA104', 'CMP 70HX'),
    0x248c: ('GA104', 'GeForce RTX 3070 Ti'),
    0x248d: ('GA104', 'GeForce RTX 3070'),
    0x248e: ('GA104', 'GeForce RTX 3060 Ti'),
    0x249c: ('GA104', 'GeForce RTX 3080 Mobile / Max-Q 8GB/16GB'),
    0x249d: ('GA104', 'GeForce RTX 3070 Mobile / Max-Q'),
    0x249f: ('GA104', ''),
    0x24a0: ('GA104', 'Geforce RTX 3070 Ti Laptop GPU'),
    0x24a4: ('GA104', ''),
    0x24ac: ('GA104', 'GeForce RTX 30x0 Engineering Sample'),
    0x24ad: ('GA104', 'GeForce RTX 3060 Engineering Sample'),
    0x24af: ('GA104', 'GeForce RTX 3070 Engineering Sample'),
    0x24b0: ('GA104', 'RTX A4000'),
    0x24b1: ('GA104', 'RTX A4000H'),
    0x24b6: ('GA104', 'RTX A5000 Mobile'),
    0x24b7: ('GA104', 'RTX A4000 Mobile'),
    0x24b8: ('GA104', 'RTX A3000 Mobile'),
    0x24b9: ('GA104', 'RTX A3000 12GB Laptop GPU'),
    0x24ba: ('GA104', 'RTX A4500 Laptop GPU'),
    0x24bb: ('GA104', 'RTX A3000 Laptop GPU'),
    0x24bf: ('GA104', 'GeForce RTX 3070 Engineering Sample'),
    0x24c0: ('GA104', 'Initial Dev ID B'),
    0x24c7: ('GA104', 'GeForce RTX 3060 8GB'),
    0x24c8: ('GA104', 'GeForce RTX 3070 GDDR6X'),
    0x24c9: ('GA104', 'GeForce RTX 3060 Ti GDDR6X'),
    0x24dc: ('GA104', 'GeForce RTX 3080 Mobile / Max-Q 8GB/16GB'),
    0x24dd: ('GA104', 'GeForce RTX 3070 Mobile / Max-Q'),
    0x24df: ('GA104', ''),
    0x24e0: ('GA104', 'Geforce RTX 3070 Ti Laptop GPU'),
    0x24fa: ('GA104', 'RTX A4500 Embedded GPU'),
    0x2501: ('GA106', 'GeForce RTX 3060'),
    0x2503: ('GA106', 'GeForce RTX 3060'),
    0x2504: ('GA106', 'GeForce RTX 3060 Lite Hash Rate'),
    0x2505: ('GA106', ''),
    0x2507: ('GA106', 'Geforce RTX 3050'),
    0x2508: ('GA106', 'GeForce RTX 3050 OEM'),
    0x2509: ('GA106', 'GeForce RTX 3060 12GB Rev. 2'),
    0x2520: ('GA106', 'GeForce RTX 3060 Mobile / Max-Q'),
    0x2521: ('GA106', 'GeForce RTX 3060 Laptop GPU'),
    0x2523: ('GA106', 'GeForce RTX 3050 Ti Mobile / Max-Q'),
    0x252f: ('GA106', 'GeForce RTX 3060 Engineering Sample'),
    0x2531: ('GA106', 'RTX A2000'),
    0x2544: ('GA106', 'GeForce RTX 3060'),
    0x2560: ('GA106', 'GeForce RTX 3060 Mobile / Max-Q'),
    0x2561: ('GA106', 'GeForce RTX 3060 Laptop GPU'),
    0x2563: ('GA106', 'GeForce RTX 3050 Ti Mobile / Max-Q'),
    0x2571: ('GA106', 'RTX A2000 12GB'),
    0x2582: ('GA107', 'GeForce RTX 3050 8GB'),
    0x2583: ('GA107', 'GeForce RTX 3050 4GB'),
    0x2584: ('GA107', 'GeForce RTX 3050 6GB'),
    0x25a0: ('GA107', 'GeForce RTX 3050 Ti Mobile'),
    0x25a2: ('GA107', 'GeForce RTX 3050 Mobile'),
    0x25a3: ('GA107', ''),
    0x25a4: ('GA107', ''),
    0x25a5: ('GA107', 'GeForce RTX 3050 Mobile'),
    0x25a6: ('GA107', 'GeForce MX570'),
    0x25a7: ('GA107', 'GeForce MX570'),
    0x25a9: ('GA107', 'GeForce RTX 2050'),
    0x25aa: ('GA107', 'GeForce MX570 A'),
    0x25ab: ('GA107', 'GeForce RTX 3050 4GB Laptop GPU'),
    0x25ac: ('GA107', 'GeForce RTX 3050 6GB Laptop GPU'),
    0x25ad: ('GA107', 'GeForce RTX 2050'),
    0x25af: ('GA107', 'GeForce RTX 3050 Engineering Sample'),
    0x25b0: ('GA107', 'RTX A1000'),
    0x25b2: ('GA107', 'RTX A400'),
    0x25b5: ('GA107', 'RTX A4 Mobile'),
    0x25b6: ('GA107', 'A2 / A16'),
    0x25b8: ('GA107', 'RTX A2000 Mobile'),
    0x25b9: ('GA107', 'RTX A1000 Laptop GPU'),
    0x25ba: ('GA107', 'RTX A2000 8GB Laptop GPU'),
    0x25bb: ('GA107', 'RTX A500 Laptop GPU'),
    0x25bc: ('GA107', 'RTX A1000 6GB Laptop GPU'),
    0x25bd: ('GA107', 'RTX A500 Laptop GPU'),
    0x25e0: ('GA107', 'GeForce RTX 3050 Ti Mobile'),
    0x25e2: ('GA107', 'GeForce RTX 3050 Mobile'),
    0x25e5: ('GA107', 'GeForce RTX 3050 Mobile'),
    0x25ec: ('GA107', 'GeForce RTX 3050 6GB Laptop GPU'),
    0x25ed: ('GA107', 'GeForce RTX 2050'),
    0x25f9: ('GA107', 'RTX A1000 Embedded GPU'),
    0x25fa: ('GA107', 'RTX A2000 Embedded GPU'),
    0x25fb: ('GA107', 'RTX A500 Embedded GPU'),
    0x2681: ('AD102', 'RTX TITAN Ada'),
    0x2684: ('AD102', 'GeForce RTX 4090'),
    0x2685: ('AD102', 'GeForce RTX 4090 D'),
    0x2689: ('AD102', 'GeForce RTX 4070 Ti SUPER'),
    0x26af: ('AD102', 'PG137'),
    0x26b1: ('AD102', 'RTX 6000 Ada Generation'),
    0x26b2: ('AD102', 'RTX 5000 Ada Generation'),
    0x26b3: ('AD102', 'RTX 5880 Ada Generation'),
    0x26b5: ('AD102', 'L40'),
    0x26b7: ('AD102', 'L20'),
    0x26b8: ('AD102', 'L40G'),
    0x26b9: ('AD102', 'L40S'),
    0x26ba: ('AD102', 'L20'),
    0x26bb: ('AD102', 'L30'),
    0x26f5: ('AD102', 'L40 CNX'),
    0x2702: ('AD103', 'GeForce RTX 4080 SUPER'),
    0x2703: ('AD103', 'GeForce RTX 4080 SUPER'),
    0x2704: ('AD103', 'GeForce RTX 4080'),
    0x2705: ('AD103', 'GeForce RTX 4070 Ti SUPER'),
    0x2709: ('AD103', 'GeForce RTX 4070'),
    0x2717: ('AD103', 'GeForce RTX 4090 Laptop GPU'),
    0x2730: ('AD103', 'RTX 5000 Ada Generation Laptop GPU'),
    0x2757: ('AD103', 'GeForce RTX 4090 Laptop GPU'),
    0x2770: ('AD103', 'RTX 5000 Ada Generation Embedded GPU'),
    0x2782: ('AD104', 'GeForce RTX 4070 Ti'),
    0x2783: ('AD104', 'GeForce RTX 4070 SUPER'),
    0x2785: ('AD104', 'AC AD104 20GB'),
    0x2786: ('AD104', 'GeForce RTX 4070'),
    0x2788: ('AD104', 'GeForce RTX 4060 Ti'),
    0x27a0: ('AD104', 'GeForce RTX 4080 Max-Q / Mobile'),
    0x27b0: ('AD104', 'RTX 4000 SFF Ada Generation'),
    0x27b1: ('AD104', 'RTX 4500 Ada Generation'),
    0x27b2: ('AD104', 'RTX 4000 Ada Generation'),
    0x27b6: ('AD104', 'L2'),
    0x27b7: ('AD104', 'L16'),
    0x27b8: ('AD104', 'L4'),
    0x27ba: ('AD104', 'RTX 4000 Ada Generation Laptop GPU'),
    0x27bb: ('AD104', 'RTX 3500 Ada Generation Laptop GPU'),
    0x27e0: ('AD104', 'GeForce RTX 4080 Max-Q / Mobile'),
    0x27fa: ('AD104', 'RTX 4000 Ada Generation Embedded GPU'),
    0x27fb: ('AD104', 'RTX 3500 Ada Generation Embedded GPU'),
    0x2803: ('AD106', 'GeForce RTX 4060 Ti'),
    0x2805: ('AD106', 'GeForce RTX 4060 Ti 16GB'),
    0x2808: ('AD106', 'GeForce RTX 4060'),
    0x2820: ('AD106', 'GeForce RTX 4070 Max-Q / Mobile'),
    0x2822: ('AD106', 'GeForce RTX 3050 A Laptop GPU'),
    0x2838: ('AD106', 'RTX 3000 Ada Generation Laptop GPU'),
    0x2860: ('AD106', 'GeForce RTX 4070 Max-Q / Mobile'),
    0x2878: ('AD106', 'RTX 3000 Ada Generation Embedded GPU'),
    0x2882: ('AD107', 'GeForce RTX 4060'),
    0x28a0: ('AD107', 'GeForce RTX 4060 Max-Q / Mobile'),
    0x28a1: ('AD107', 'GeForce RTX 4050 Max-Q / Mobile'),
    0x28a3: ('AD107', 'GeForce RTX 3050 A Laptop GPU'),
    0x28b0: ('AD107', 'RTX 2000 / 2000E Ada Generation'),
    0x28b8: ('AD107', 'RTX 2000 Ada Generation Laptop GPU'),
    0x28b9: ('AD107', 'RTX 1000 Ada Generation Laptop GPU'),
    0x28ba: ('AD107', 'RTX 500 Ada Generation Laptop GPU'),
    0x28bb: ('AD107', 'RTX 500 Ada Generation Laptop GPU'),
    0x28e0: ('AD107', 'GeForce RTX 4060 Max-Q / Mobile'),
    0x28e1: ('AD107', 'GeForce RTX 4050 Max-Q / Mobile'),
    0x28e3: ('AD107', 'GeForce RTX 3050 A Laptop GPU'),
    0x28f8: ('AD107', 'RTX 2000 Ada Generation Embedded GPU'),
    0x2901: ('GB100', 'B200'),
    0x2909: ('GB100', 'HGX B200 168GB'),
    0x290a: ('GB100', 'B200'),
    0x2920: ('GB100', 'TS4 / B100'),
    0x2924: ('GB100', ''),
    0x2925: ('GB100', ''),
    0x293d: ('GB100', ''),
    0x2941: ('GB100', 'HGX GB200'),
    0x297e: ('GB100', ''),
    0x29bb: ('GB102', 'DRIVE P2021'),
    0x29bc: ('GB102', 'B100'),
    0x29f1: ('GB102', ''),
    0x2b85: ('GB202', 'GeForce RTX 5090'),
    0x2b87: ('GB202', 'GeForce RTX 5090 D'),
    0x2b8c: ('GB202', 'GeForce RTX 5090 D V2'),
    0x2bb1: ('GB202', 'RTX PRO 6000 Blackwell Workstation Edition'),
    0x2bb2: ('GB202', 'RTX PRO 6000D Blackwell Workstation Edition'),
    0x2bb3: ('GB202', 'RTX PRO 5000 Blackwell / RTX PRO 5000 72GB Blackwell'),
    0x2bb4: ('GB202', 'RTX PRO 6000 Blackwell Max-Q Workstation Edition'),
    0x2bb5: ('GB202', 'RTX PRO 6000 Blackwell Server Edition'),
    0x2bb9: ('GB202', 'RTX 6000D'),
    0x2bbc: ('GB202', 'RTX PRO 6000D Blackwell Max-Q Workstation Edition'),
    0x2c02: ('GB203', 'GeForce RTX 5080'),
    0x2c05: ('GB203', 'GeForce RTX 5070 Ti'),
    0x2c09: ('GB203', 'GeForce RTX 5070'),
    0x2c18: ('GB203', 'GeForce RTX 5090 Max-Q / Mobile'),
    0x2c19: ('GB203', 'GeForce RTX 5080 Max-Q / Mobile'),
    0x2c31: ('GB203', 'RTX PRO 4500 Blackwell'),
    0x2c33: ('GB203', 'RTX PRO 4000 Blackwell SFF Edition'),
    0x2c34: ('GB203', 'RTX PRO 4000 Blackwell'),
    0x2c38: ('GB203', 'RTX PRO 5000 Blackwell Generation Laptop GPU'),
    0x2c39: ('GB203', 'RTX PRO 4000 Blackwell Generation Laptop GPU'),
    0x2c3a: ('GB203', 'RTX PRO 4500 Blackwell Server Edition'),
    0x2c58: ('GB203', 'GeForce RTX 5090 Max-Q / Mobile'),
    0x2c59: ('GB203', 'GeForce RTX 5080 Max-Q / Mobile'),
    0x2c77: ('GB203', 'RTX PRO 5000 Blackwell Embedded GPU'),
    0x2c79: ('GB203', 'RTX PRO 4000 Blackwell Embedded GPU'),
    0x2d04: ('GB206', 'GeForce RTX 5060 Ti'),
    0x2d05: ('GB206', 'GeForce RTX 5060'),
    0x2d18: ('GB206', 'GeForce RTX 5070 Max-Q / Mobile'),
    0x2d19: ('GB206', 'GeForce RTX 5060 Max-Q / Mobile'),
    0x2d30: ('GB206', 'RTX PRO 2000 Blackwell'),
    0x2d39: ('GB206', 'RTX PRO 2000 Blackwell Generation Laptop GPU'),
    0x2d58: ('GB206', 'GeForce RTX 5070 Max-Q / Mobile'),
    0x2d59: ('GB206', 'GeForce RTX 5060 Max-Q / Mobile'),
    0x2d79: ('GB206', 'RTX PRO 2000 Blackwell Embedded GPU'),
    0x2d83: ('GB207', 'GeForce RTX 5050'),
    0x2d98: ('GB207', 'GeForce RTX 5050 Max-Q / Mobile'),
    0x2db8: ('GB207', 'RTX PRO 1000 Blackwell Generation Laptop GPU'),
    0x2db9: ('GB207', 'RTX PRO 500 Blackwell Generation Laptop GPU'),
    0x2dd8: ('GB207', 'GeForce RTX 5050 Max-Q / Mobile'),
    0x2df9: ('GB207', 'RTX PRO 500 Blackwell Embedded GPU'),
    0x2e02: ('GB20B', 'JMJWOA-Generic-GPU'),
    0x2e03: ('GB20B', 'RTX Spark N1X (6144-core Blackwell RTX GPU)'),
    0x2e06: ('GB20B', 'RTX Spark N1X (5120-core Blackwell RTX GPU)'),
    0x2e12: ('GB20B', 'GB10'),
    0x2e13: ('GB20B', 'RTX Spark N1X (6144-core Blackwell RTX GPU)'),
    0x2e2a: ('GB20B', 'JMJWOA-Generic-GPU'),
    0x2f04: ('GB205', 'GeForce RTX 5070'),
    0x2f06: ('GB205', 'GeForce RTX 5060'),
    0x2f18: ('GB205', 'GeForce RTX 5070 Ti Mobile'),
    0x2f38: ('GB205', 'RTX PRO 3000 Blackwell Generation Laptop GPU'),
    0x2f58: ('GB205', 'GeForce RTX 5070 Ti Mobile'),
    0x3182: ('GB110', 'B300 SXM6 AC'),
    0x3183: ('GB110', ''),
    0x3184: ('GB110', ''),
    0x31a1: ('GB110', 'GB300 MaxQ'),
    0x31c2: ('GB110', 'GB300'),
    0x31c3: ('GB110', 'GB300-252'),
    0x31fe: ('GB110', ''),
}
# END GENERATED PCI TABLE
