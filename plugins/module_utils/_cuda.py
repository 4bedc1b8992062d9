# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Find CUDA toolkits (``nvcc``) on a host and query the CUDA devices through the driver API.

The device query talks to ``libcuda.so.1`` (the CUDA driver library every NVIDIA driver ships)
with ctypes, so it needs neither a compiler nor a framework. It runs in a child process started
by the ``cuda_facts`` module (``WORKER_MAIN`` below), never inside the AnsiballZ process, so a
hung driver cannot hang Ansible. Nothing here imports Ansible.
"""

from __future__ import absolute_import, division, print_function

import glob
import json
import os
import re

# Where toolkits live: NVIDIA's packages (/usr/local/cuda-X.Y, with the /usr/local/cuda link),
# Debian/Ubuntu's nvidia-cuda-toolkit (/usr/bin/nvcc, /usr/lib/nvidia-cuda-toolkit), /opt.
DEFAULT_NVCC_GLOBS = (
    "/usr/local/cuda/bin/nvcc",
    "/usr/local/cuda-*/bin/nvcc",
    "/usr/bin/nvcc",
    "/usr/lib/nvidia-cuda-toolkit/bin/nvcc",
    "/opt/cuda*/bin/nvcc",
    "/opt/nvidia/cuda*/bin/nvcc",
)

NVCC_RELEASE = re.compile(r"release (\d+)\.(\d+)(?:, V(\d+(?:\.\d+)*))?")


def parse_nvcc_version(text):
    """``nvcc --version`` output -> {'version': '13.0', 'build': '13.0.48'} or None."""
    match = NVCC_RELEASE.search(text or "")
    if not match:
        return None
    return {"version": "%s.%s" % (match.group(1), match.group(2)), "build": match.group(3)}


def cuda_home(nvcc_path):
    """The toolkit root for an nvcc path (the distribution toolkit's headers live under /usr)."""
    real = os.path.realpath(nvcc_path)
    if real.startswith("/usr/lib/nvidia-cuda-toolkit/") or real == "/usr/bin/nvcc":
        return "/usr"
    return os.path.dirname(os.path.dirname(nvcc_path))


def candidate_nvccs(globs, path_env=None):
    """nvcc executables matched by ``globs`` and found on PATH, in order, without duplicates."""
    seen = set()
    found = []
    entries = []
    for pattern in globs:
        entries.extend(sorted(glob.glob(pattern)))
    for directory in (path_env or "").split(os.pathsep):
        if directory:
            entries.append(os.path.join(directory, "nvcc"))
    for path in entries:
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            continue
        key = os.path.realpath(path)
        if key in seen:
            continue
        seen.add(key)
        found.append(path)
    return found


def choose(toolkits, wanted):
    """The toolkit whose major.minor equals ``wanted`` (first in search order), else None."""
    for toolkit in toolkits:
        if toolkit.get("version") == wanted:
            return toolkit
    return None


# --- Device query through the CUDA driver API (runs in the worker process) --------------------
CU_DEVICE_ATTRIBUTE = {
    "multiprocessors": 16,
    "pci_bus_id": 33,
    "pci_device_id": 34,
    "pci_domain_id": 50,
    "compute_capability_major": 75,
    "compute_capability_minor": 76,
}


def _error_name(lib, code):
    import ctypes  # pylint: disable=import-outside-toplevel
    text = ctypes.c_char_p()
    try:
        if lib.cuGetErrorName(code, ctypes.byref(text)) == 0 and text.value:
            return text.value.decode()
    except AttributeError:
        pass
    return "CUDA error %d" % code


def device_query(library_names=("libcuda.so.1", "libcuda.so")):
    """What the CUDA driver reports: its CUDA version and each device. Never raises."""
    import ctypes  # pylint: disable=import-outside-toplevel
    lib = None
    for name in library_names:
        try:
            lib = ctypes.CDLL(name)
            break
        except OSError:
            continue
    if lib is None:
        return {"error": "the CUDA driver library libcuda.so.1 was not found (no NVIDIA driver is installed)",
                "devices": [], "driver_cuda_version": None}
    code = lib.cuInit(0)
    version = ctypes.c_int(0)
    driver_cuda = None
    if lib.cuDriverGetVersion(ctypes.byref(version)) == 0 and version.value:
        driver_cuda = "%d.%d" % (version.value // 1000, (version.value % 1000) // 10)
    if code != 0:
        return {"error": "cuInit failed with %s" % _error_name(lib, code), "code": code, "devices": [],
                "driver_cuda_version": driver_cuda}
    count = ctypes.c_int(0)
    code = lib.cuDeviceGetCount(ctypes.byref(count))
    if code != 0:
        return {"error": "cuDeviceGetCount failed with %s" % _error_name(lib, code), "code": code,
                "devices": [], "driver_cuda_version": driver_cuda}
    devices = []
    for index in range(count.value):
        device = ctypes.c_int(0)
        lib.cuDeviceGet(ctypes.byref(device), index)
        name = ctypes.create_string_buffer(256)
        lib.cuDeviceGetName(name, 256, device)
        attrs = {}
        for key, number in CU_DEVICE_ATTRIBUTE.items():
            value = ctypes.c_int(0)
            attrs[key] = value.value if lib.cuDeviceGetAttribute(ctypes.byref(value), number, device) == 0 else None
        memory = ctypes.c_size_t(0)
        total = getattr(lib, "cuDeviceTotalMem_v2", None) or lib.cuDeviceTotalMem
        mem_ok = total(ctypes.byref(memory), device) == 0
        devices.append({
            "index": index,
            "name": name.value.decode("utf-8", "replace"),
            "compute_capability": "%s.%s" % (attrs["compute_capability_major"], attrs["compute_capability_minor"]),
            "multiprocessors": attrs["multiprocessors"],
            "memory_mib": (memory.value // (1024 * 1024)) if mem_ok else None,
            "pci_bus_id": "%04x:%02x:%02x.0" % (attrs["pci_domain_id"] or 0, attrs["pci_bus_id"] or 0,
                                                attrs["pci_device_id"] or 0),
        })
    return {"error": None, "devices": devices, "driver_cuda_version": driver_cuda}


WORKER_MAIN = """
import json, sys
sys.path.insert(0, sys.argv[1])
import _cuda
print(json.dumps(_cuda.device_query()))
"""


def parse_worker_output(text):
    """The last JSON line the worker printed, or None."""
    for line in reversed((text or "").strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                return None
    return None
