# -*- coding: utf-8 -*-
"""Toolkit discovery and the driver-API device query (libcuda replaced at the ctypes boundary)."""
import ctypes
import os

from ansible_collections.vaultcube.demobox.plugins.module_utils import _cuda

NVCC_130 = ("nvcc: NVIDIA (R) Cuda compiler driver\nCopyright (c) 2005-2025 NVIDIA Corporation\n"
            "Built on Wed_Aug_20_01:58:59_PM_PDT_2025\nCuda compilation tools, release 13.0, V13.0.88\n"
            "Build cuda_13.0.r13.0/compiler.36424714_0\n")
NVCC_124_DEBIAN = "Cuda compilation tools, release 12.4, V12.4.131\nBuild cuda_12.4.r12.4/compiler.34097967_0\n"


def test_parse_nvcc_version():
    assert _cuda.parse_nvcc_version(NVCC_130) == {"version": "13.0", "build": "13.0.88"}
    assert _cuda.parse_nvcc_version(NVCC_124_DEBIAN) == {"version": "12.4", "build": "12.4.131"}
    assert _cuda.parse_nvcc_version("Cuda compilation tools, release 11.5") == {"version": "11.5", "build": None}
    assert _cuda.parse_nvcc_version("command not found") is None


def test_cuda_home():
    assert _cuda.cuda_home("/usr/local/cuda-13.0/bin/nvcc") == "/usr/local/cuda-13.0"
    assert _cuda.cuda_home("/usr/lib/nvidia-cuda-toolkit/bin/nvcc") == "/usr"
    assert _cuda.cuda_home("/usr/bin/nvcc") == "/usr"


def _exe(path, text="#!/bin/sh\n"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)
    return str(path)


def test_candidate_nvccs_in_order_without_duplicates(tmp_path):
    a = _exe(tmp_path / "cuda-13.0" / "bin" / "nvcc")
    os.symlink(str(tmp_path / "cuda-13.0"), str(tmp_path / "cuda"))
    b = _exe(tmp_path / "cuda-12.8" / "bin" / "nvcc")
    (tmp_path / "cuda-12.6" / "bin").mkdir(parents=True)
    (tmp_path / "cuda-12.6" / "bin" / "nvcc").write_text("not executable")
    path_dir = tmp_path / "pathdir"
    c = _exe(path_dir / "nvcc")
    found = _cuda.candidate_nvccs([str(tmp_path / "cuda" / "bin" / "nvcc"), str(tmp_path / "cuda-*" / "bin" / "nvcc")],
                                  str(path_dir) + os.pathsep + str(tmp_path / "cuda-12.8" / "bin"))
    assert found == [str(tmp_path / "cuda" / "bin" / "nvcc"), b, c]
    assert a not in found  # the same file as the /cuda link


def test_choose():
    toolkits = [{"version": "12.8", "nvcc": "a"}, {"version": None, "nvcc": "x"}, {"version": "13.0", "nvcc": "b"},
                {"version": "13.0", "nvcc": "c"}]
    assert _cuda.choose(toolkits, "13.0")["nvcc"] == "b"
    assert _cuda.choose(toolkits, "12.4") is None


class FakeLibcuda:
    """The CUDA driver API entry points device_query uses, over a list of devices."""

    def __init__(self, devices, init=0, version=13000, names=None):
        self.devices = devices
        self.init = init
        self.version = version
        self.names = names or {100: b"CUDA_ERROR_NO_DEVICE", 999: b"CUDA_ERROR_UNKNOWN"}

    @staticmethod
    def _set(ref, value):
        ref._obj.value = value

    def cuInit(self, flags):
        return self.init

    def cuDriverGetVersion(self, ref):
        self._set(ref, self.version)
        return 0

    def cuDeviceGetCount(self, ref):
        self._set(ref, len(self.devices))
        return 0

    def cuDeviceGet(self, ref, index):
        self._set(ref, index)
        return 0

    def cuDeviceGetName(self, buf, size, device):
        ctypes.memmove(buf, self.devices[device.value]["name"].encode() + b"\0", len(self.devices[device.value]["name"]) + 1)
        return 0

    def cuDeviceGetAttribute(self, ref, attribute, device):
        value = self.devices[device.value]["attrs"].get(attribute)
        if value is None:
            return 1
        self._set(ref, value)
        return 0

    def cuDeviceTotalMem_v2(self, ref, device):
        self._set(ref, self.devices[device.value]["memory"])
        return 0

    def cuGetErrorName(self, code, ref):
        if code not in self.names:
            return 1
        self._set(ref, self.names[code])
        return 0


H200 = {"name": "NVIDIA H200", "memory": 150121545728,
        "attrs": {75: 9, 76: 0, 16: 132, 33: 0x18, 34: 0, 50: 0}}


def test_device_query_reports_each_device(monkeypatch):
    lib = FakeLibcuda([H200])
    monkeypatch.setattr(ctypes, "CDLL", lambda name: lib)
    assert _cuda.device_query() == {"error": None, "driver_cuda_version": "13.0", "devices": [
        {"index": 0, "name": "NVIDIA H200", "compute_capability": "9.0", "multiprocessors": 132,
         "memory_mib": 143167, "pci_bus_id": "0000:18:00.0"}]}


def test_device_query_without_a_device(monkeypatch):
    monkeypatch.setattr(ctypes, "CDLL", lambda name: FakeLibcuda([], init=100, version=12040))
    assert _cuda.device_query() == {"error": "cuInit failed with CUDA_ERROR_NO_DEVICE", "code": 100, "devices": [],
                                    "driver_cuda_version": "12.4"}
    monkeypatch.setattr(ctypes, "CDLL", lambda name: FakeLibcuda([], init=42, version=0))
    assert _cuda.device_query()["error"] == "cuInit failed with CUDA error 42"


def test_device_query_without_the_library(monkeypatch):
    def missing(name):
        raise OSError("%s: cannot open shared object file" % name)
    monkeypatch.setattr(ctypes, "CDLL", missing)
    result = _cuda.device_query()
    assert result["error"] == "the CUDA driver library libcuda.so.1 was not found (no NVIDIA driver is installed)"


def test_parse_worker_output():
    assert _cuda.parse_worker_output('noise\n{"devices": []}\n') == {"devices": []}
    assert _cuda.parse_worker_output("{broken\n") is None
    assert _cuda.parse_worker_output("") is None
