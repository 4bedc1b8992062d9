# -*- coding: utf-8 -*-
"""_nvml's memory readings (used by vllm_bench's worker), with NVML replaced at the boundary."""
import collections

from fake_nvml import NVML_ERROR_NOT_SUPPORTED, FakeNVML, NVMLError, h200

from ansible_collections.vaultcube.demobox.plugins.module_utils import _nvml

Proc = collections.namedtuple("Proc", "pid usedGpuMemory")
MIB = 1024 * 1024


class WithProcesses(FakeNVML):
    """FakeNVML plus nvmlDeviceGetComputeRunningProcesses, as nvidia-ml-py shapes it."""

    def __init__(self, gpus, procs=None, **kwargs):
        FakeNVML.__init__(self, gpus, **kwargs)
        self.procs = procs

    def nvmlDeviceGetComputeRunningProcesses(self, h):
        if self.procs is None:
            raise NVMLError(NVML_ERROR_NOT_SUPPORTED)
        return self.procs.get(h, [])


def test_memory_used_and_total():
    reader = _nvml.Reader(FakeNVML([h200(memory_used=2048 * MIB)]))
    assert _nvml.memory_used_mib(reader, 0) == (2048, 143771)
    reader = _nvml.Reader(FakeNVML([h200(memory_used=None)]))
    assert _nvml.memory_used_mib(reader, 0) == (None, None)


def test_process_memory_sums_per_pid_and_skips_unknown_usage():
    nvml = WithProcesses([h200()], {0: [Proc(10, 1000 * MIB), Proc(10, 24 * MIB), Proc(11, None), Proc(12, 5 * MIB)]})
    assert _nvml.process_memory_mib(_nvml.Reader(nvml), 0) == {10: 1024, 12: 5}
    assert _nvml.process_memory_mib(_nvml.Reader(WithProcesses([h200()])), 0) == {}
