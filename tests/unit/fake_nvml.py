# -*- coding: utf-8 -*-
"""A stand-in for the pynvml module, replacing NVML at the boundary for unit tests.

It implements the subset of nvidia-ml-py's API the collection calls, with the same names,
constants, error type and return shapes, and lets a test describe GPUs as plain dicts.
Anything a GPU dict leaves out answers NVML_ERROR_NOT_SUPPORTED, as a real GPU does.
"""

import collections

NVML_ERROR_UNINITIALIZED = 1
NVML_ERROR_INVALID_ARGUMENT = 2
NVML_ERROR_NOT_SUPPORTED = 3
NVML_ERROR_NO_PERMISSION = 4
NVML_ERROR_DRIVER_NOT_LOADED = 9
NVML_ERROR_LIBRARY_NOT_FOUND = 12
NVML_ERROR_UNKNOWN = 999
NVML_CLOCK_SM = 1
NVML_CLOCK_MEM = 2
NVML_TEMPERATURE_GPU = 0
NVML_MEMORY_ERROR_TYPE_CORRECTED = 0
NVML_MEMORY_ERROR_TYPE_UNCORRECTED = 1
NVML_VOLATILE_ECC = 0
NVML_AGGREGATE_ECC = 1
NVML_NVLINK_MAX_LINKS = 18

Memory = collections.namedtuple("Memory", "total free used")
Pci = collections.namedtuple("Pci", "busId pciDeviceId")
Util = collections.namedtuple("Util", "gpu memory")
Violation = collections.namedtuple("Violation", "referenceTime violationTime")
EventData = collections.namedtuple("EventData", "device eventType eventData gpuInstanceId computeInstanceId")
FieldUnion = collections.namedtuple("FieldUnion", "uiVal")
FieldValue = collections.namedtuple("FieldValue", "fieldId nvmlReturn value")
NVML_ERROR_TIMEOUT = 10
NVML_ERROR_GPU_IS_LOST = 15


class NVMLError(Exception):
    def __init__(self, value):
        super().__init__("NVML error %d" % value)
        self.value = value


def rtx5090(**overrides):
    gpu = {
        "name": "NVIDIA GeForce RTX 5090", "uuid": "GPU-5090-0", "bus_id": "00000000:01:00.0",
        "pci_device_id": 0x2B8510DE, "arch": 10, "cc": (12, 0), "memory_total": 32607 * 1024 * 1024,
        "memory_used": 15 * 1024 * 1024, "temperature": 34, "fan": 30, "pstate": 8, "power": 21500,
        "power_limit": 575000, "power_default": 575000, "power_constraints": (400000, 600000),
        "sm_clock": 210, "sm_max": 3090, "mem_clock": 405, "mem_max": 14001, "util": (0, 0),
        "pcie_gen": 1, "pcie_gen_max": 5, "pcie_gen_gpu_max": 5, "pcie_width": 16, "pcie_width_max": 16,
        "pcie_replay": 0, "reasons": 0x1, "persistence": 1, "vbios": "98.02.2E.00.01",
    }
    gpu.update(overrides)
    return gpu


def h200(**overrides):
    gpu = rtx5090(name="NVIDIA H200", uuid="GPU-H200-0", arch=9, cc=(9, 0), memory_total=143771 * 1024 * 1024,
                  power_limit=700000, power_default=700000, power_constraints=(200000, 700000), fan=None,
                  ecc=(1, 1), ecc_counts={(0, 0): 0, (1, 0): 0, (0, 1): 3, (1, 1): 0}, nvlinks=18,
                  serial="1650124000001")
    gpu.update(overrides)
    return gpu


class FakeNVML:
    """Use as a module object: ``FakeNVML([rtx5090(), rtx5090(uuid=...)])``."""

    NVMLError = NVMLError

    def __init__(self, gpus=(), init_error=None, driver="580.95.05", cuda=13000, nvml="13.580.95.05",
                 topology=40, p2p=0):
        self.gpus = [dict(g) for g in gpus]
        self.init_error = init_error
        self.driver = driver
        self.cuda = cuda
        self.nvml = nvml
        self.topology = topology
        self.p2p = p2p
        self.initialised = 0
        self.shutdowns = 0
        for name, value in globals().items():
            if name.startswith("NVML_"):
                setattr(self, name, value)

    def _get(self, handle, key):
        if self.gpus[handle].get("lost"):
            raise NVMLError(NVML_ERROR_GPU_IS_LOST)
        value = self.gpus[handle].get(key)
        if value is None:
            raise NVMLError(NVML_ERROR_NOT_SUPPORTED)
        return value

    # -- library
    def nvmlInit(self):
        if self.init_error is not None:
            raise NVMLError(self.init_error)
        self.initialised += 1

    def nvmlShutdown(self):
        self.shutdowns += 1

    def nvmlSystemGetDriverVersion(self):
        return self.driver

    def nvmlSystemGetCudaDriverVersion_v2(self):
        return self.cuda

    def nvmlSystemGetNVMLVersion(self):
        return self.nvml

    def nvmlDeviceGetCount(self):
        return len(self.gpus)

    def nvmlDeviceGetHandleByIndex(self, index):
        if index >= len(self.gpus):
            raise NVMLError(NVML_ERROR_INVALID_ARGUMENT)
        return index

    # -- device
    def nvmlDeviceGetName(self, h):
        return self._get(h, "name")

    def nvmlDeviceGetUUID(self, h):
        return self._get(h, "uuid")

    def nvmlDeviceGetSerial(self, h):
        return self._get(h, "serial")

    def nvmlDeviceGetPciInfo(self, h):
        return Pci(self._get(h, "bus_id"), self._get(h, "pci_device_id"))

    def nvmlDeviceGetArchitecture(self, h):
        return self._get(h, "arch")

    def nvmlDeviceGetCudaComputeCapability(self, h):
        return self._get(h, "cc")

    def nvmlDeviceGetMemoryInfo(self, h):
        total = self._get(h, "memory_total")
        used = self._get(h, "memory_used")
        return Memory(total, total - used, used)

    def nvmlDeviceGetTemperature(self, h, sensor):
        return self._get(h, "temperature")

    def nvmlDeviceGetFanSpeed(self, h):
        return self._get(h, "fan")

    def nvmlDeviceGetPerformanceState(self, h):
        return self._get(h, "pstate")

    def nvmlDeviceGetPowerUsage(self, h):
        return self._get(h, "power")

    def nvmlDeviceGetEnforcedPowerLimit(self, h):
        return self._get(h, "power_limit")

    def nvmlDeviceGetPowerManagementDefaultLimit(self, h):
        return self._get(h, "power_default")

    def nvmlDeviceGetPowerManagementLimitConstraints(self, h):
        return self._get(h, "power_constraints")

    def nvmlDeviceGetClockInfo(self, h, clock):
        return self._get(h, "sm_clock" if clock == NVML_CLOCK_SM else "mem_clock")

    def nvmlDeviceGetMaxClockInfo(self, h, clock):
        return self._get(h, "sm_max" if clock == NVML_CLOCK_SM else "mem_max")

    def nvmlDeviceGetUtilizationRates(self, h):
        gpu, mem = self._get(h, "util")
        return Util(gpu, mem)

    def nvmlDeviceGetCurrPcieLinkGeneration(self, h):
        return self._get(h, "pcie_gen")

    def nvmlDeviceGetMaxPcieLinkGeneration(self, h):
        return self._get(h, "pcie_gen_max")

    def nvmlDeviceGetGpuMaxPcieLinkGeneration(self, h):
        return self._get(h, "pcie_gen_gpu_max")

    def nvmlDeviceGetCurrPcieLinkWidth(self, h):
        return self._get(h, "pcie_width")

    def nvmlDeviceGetMaxPcieLinkWidth(self, h):
        return self._get(h, "pcie_width_max")

    def nvmlDeviceGetPcieReplayCounter(self, h):
        return self._get(h, "pcie_replay")

    def nvmlDeviceGetEccMode(self, h):
        return self._get(h, "ecc")

    def nvmlDeviceGetTotalEccErrors(self, h, error_type, counter_type):
        return self._get(h, "ecc_counts")[(error_type, counter_type)]

    def nvmlDeviceGetCurrentClocksEventReasons(self, h):
        return self._get(h, "reasons")

    def nvmlDeviceGetPersistenceMode(self, h):
        return self._get(h, "persistence")

    def nvmlDeviceGetVbiosVersion(self, h):
        return self._get(h, "vbios")

    def nvmlDeviceGetNvLinkState(self, h, link):
        links = self.gpus[h].get("nvlinks")
        if links is None:
            raise NVMLError(NVML_ERROR_NOT_SUPPORTED)
        if link >= links:
            raise NVMLError(NVML_ERROR_INVALID_ARGUMENT)
        return 1

    # -- path facts (gpu_bandwidth). A GPU dict may carry "bus_width" (bits), "numa", "affinity"
    # (a list of 64-bit words), "nvlink_speed" (MB/s, NVML field 90); FakeNVML(p2p=...) sets the
    # P2P status every pair answers (0 = OK), or None for NOT_SUPPORTED.
    def nvmlDeviceGetMemoryBusWidth(self, h):
        return self._get(h, "bus_width")

    def nvmlDeviceGetNumaNodeId(self, h):
        return self._get(h, "numa")

    def nvmlDeviceGetCpuAffinity(self, h, words):
        return list(self._get(h, "affinity"))[:words]

    def nvmlDeviceGetP2PStatus(self, h1, h2, index):
        status = self.__dict__.get("p2p", 0)
        if status is None:
            raise NVMLError(NVML_ERROR_NOT_SUPPORTED)
        return status

    def nvmlDeviceGetFieldValues(self, h, fields):
        speed = self.gpus[h].get("nvlink_speed")
        return [FieldValue(fields[0], 0 if speed else NVML_ERROR_NOT_SUPPORTED, FieldUnion(speed or 0))]

    def nvmlDeviceGetTopologyCommonAncestor(self, h1, h2):
        if self.topology is None:
            raise NVMLError(NVML_ERROR_NOT_SUPPORTED)
        return self.topology

    # -- health counters and XID events (stress_gpu). A GPU dict may carry "violation"
    # ({policy: ns}) and "events" (the supported event mask); a test queues XID events with
    # queue_xid(gpu_index, xid).
    nvmlEventTypeXidCriticalError = 0x8

    def nvmlDeviceGetViolationStatus(self, h, policy):
        return Violation(0, self._get(h, "violation").get(policy, 0))

    def nvmlDeviceGetIndex(self, h):
        return h

    def nvmlDeviceGetSupportedEventTypes(self, h):
        return self._get(h, "events")

    def nvmlEventSetCreate(self):
        self.__dict__.setdefault("pending_events", [])
        self.__dict__.setdefault("registered", [])
        return "event-set"

    def nvmlDeviceRegisterEvents(self, h, kinds, event_set):
        self.registered.append((h, kinds, event_set))

    def queue_xid(self, gpu, xid):
        self.__dict__.setdefault("pending_events", []).append((gpu, xid))

    def nvmlEventSetWait_v2(self, event_set, timeout_ms):
        pending = self.__dict__.setdefault("pending_events", [])
        if not pending:
            raise NVMLError(NVML_ERROR_TIMEOUT)
        gpu, xid = pending.pop(0)
        return EventData(gpu, self.nvmlEventTypeXidCriticalError, xid, 0, 0)

    def nvmlEventSetFree(self, event_set):
        self.__dict__["event_sets_freed"] = self.__dict__.get("event_sets_freed", 0) + 1
