# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""NVML helpers shared by the collection's modules and by their worker processes.

This file imports nothing from Ansible on purpose: the GPU modules copy it next to the worker
scripts they start under another interpreter (the AI venv's python), where it is imported as a
plain module. Everything here talks to NVML through the official binding, nvidia-ml-py (import
name ``pynvml``), passed in as an object so unit tests can replace it at that boundary.
"""

from __future__ import absolute_import, division, print_function

import glob
import os
import sys
import time

# Clocks-event ("throttle") reason bits, as defined in nvml.h (nvmlClocksEventReason*).
# Source: NVIDIA NVML API reference, "Clocks Event Reasons".
CLOCK_EVENT_REASONS = (
    (0x0000000000000001, "gpu_idle"),
    (0x0000000000000002, "applications_clocks_setting"),
    (0x0000000000000004, "sw_power_cap"),
    (0x0000000000000008, "hw_slowdown"),
    (0x0000000000000010, "sync_boost"),
    (0x0000000000000020, "sw_thermal_slowdown"),
    (0x0000000000000040, "hw_thermal_slowdown"),
    (0x0000000000000080, "hw_power_brake_slowdown"),
    (0x0000000000000100, "display_clock_setting"),
)

# nvmlDeviceGetArchitecture() values (nvml.h, NVML_DEVICE_ARCH_*).
ARCHITECTURES = {
    2: "kepler",
    3: "maxwell",
    4: "pascal",
    5: "volta",
    6: "turing",
    7: "ampere",
    8: "ada",
    9: "hopper",
    10: "blackwell",
    13: "rubin",
}

# nvmlDeviceGetTopologyCommonAncestor() values (nvml.h, NVML_TOPOLOGY_*), named like
# `nvidia-smi topo -m` does.
TOPOLOGY_LEVELS = {
    0: "internal",
    10: "PIX",   # single PCIe switch
    20: "PXB",   # multiple PCIe switches
    30: "PHB",   # PCIe host bridge
    40: "NODE",  # same NUMA node / CPU
    50: "SYS",   # across CPUs (SMP interconnect)
}

# NVML error codes that mean "this GPU/driver does not offer this value", not a fault.
_NOT_AVAILABLE_CODES = (3, 13, 2)  # NOT_SUPPORTED, FUNCTION_NOT_FOUND, INVALID_ARGUMENT
_NO_LIBRARY_CODE = 12      # NVML_ERROR_LIBRARY_NOT_FOUND
_DRIVER_NOT_LOADED_CODE = 9
_NO_PERMISSION_CODE = 4

DEFAULT_BINDING_SEARCH = (
    "/opt/vaultcube/venv/lib/python3*/site-packages",
)


def decode_clock_event_reasons(mask):
    """Return the names of the reason bits set in ``mask`` (unknown bits as hex)."""
    if mask is None:
        return None
    names = []
    known = 0
    for bit, name in CLOCK_EVENT_REASONS:
        known |= bit
        if mask & bit:
            names.append(name)
    rest = mask & ~known
    if rest:
        names.append("unknown_0x%x" % rest)
    return names


def load_binding(search_globs=DEFAULT_BINDING_SEARCH):
    """Import pynvml; if the running interpreter lacks it, look in the given site-packages globs.

    nvidia-ml-py is pure Python, so the copy in the AI venv serves any Python 3 interpreter.
    Returns (module, None) or (None, reason).
    """
    try:
        import pynvml  # pylint: disable=import-outside-toplevel
        return pynvml, None
    except ImportError:
        pass
    for pattern in search_globs or ():
        for site in sorted(glob.glob(pattern)):
            if os.path.isfile(os.path.join(site, "pynvml.py")) and site not in sys.path:
                sys.path.append(site)
                try:
                    import pynvml  # pylint: disable=import-outside-toplevel
                    return pynvml, None
                except ImportError:
                    sys.path.remove(site)
    return None, (
        "the NVML Python binding nvidia-ml-py (import pynvml) is not installed for %s" % sys.executable
    )


def error_code(exc):
    return getattr(exc, "value", None)


def init_failure_reason(exc):
    """Explain an nvmlInit() failure in one plain sentence."""
    code = error_code(exc)
    if code == _NO_LIBRARY_CODE:
        return "the NVML library (libnvidia-ml.so.1) was not found: no NVIDIA driver is installed"
    if code == _DRIVER_NOT_LOADED_CODE:
        return "the NVIDIA kernel driver is not loaded"
    if code == _NO_PERMISSION_CODE:
        return "no permission to talk to the NVIDIA driver"
    return "NVML could not be initialised: %s" % exc


def _text(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


class Reader:
    """Wraps a pynvml module so a value NVML does not support reads as None, not an exception."""

    def __init__(self, nvml):
        self.nvml = nvml
        self.unsupported = set()

    def get(self, name, *args):
        func = getattr(self.nvml, name, None)
        if func is None:
            self.unsupported.add(name)
            return None
        try:
            return func(*args)
        except self.nvml.NVMLError as exc:  # pylint: disable=catching-non-exception
            if error_code(exc) in _NOT_AVAILABLE_CODES or error_code(exc) == _NO_PERMISSION_CODE:
                self.unsupported.add(name)
                return None
            raise

    def first(self, names, *args):
        """The first of several alternative NVML calls that the binding and driver support."""
        for name in names:
            if getattr(self.nvml, name, None) is not None:
                value = self.get(name, *args)
                if value is not None:
                    return value
        return None


def _mib(num_bytes):
    if num_bytes is None:
        return None
    return int(num_bytes // (1024 * 1024))


def _watts(milliwatts):
    if milliwatts is None:
        return None
    return round(milliwatts / 1000.0, 1)


def cuda_version_text(value):
    """NVML reports CUDA versions as 1000*major + 10*minor (e.g. 13000 -> '13.0')."""
    if not value:
        return None
    return "%d.%d" % (value // 1000, (value % 1000) // 10)


def system_info(reader):
    nvml = reader.nvml
    return {
        "driver_version": _text(reader.get("nvmlSystemGetDriverVersion")),
        "cuda_driver_version": cuda_version_text(
            reader.first(["nvmlSystemGetCudaDriverVersion_v2", "nvmlSystemGetCudaDriverVersion"])
        ),
        "nvml_version": _text(reader.get("nvmlSystemGetNVMLVersion")),
        "binding_version": getattr(nvml, "__version__", None),
    }


def _ecc(reader, handle):
    nvml = reader.nvml
    mode = reader.get("nvmlDeviceGetEccMode", handle)
    result = {"supported": mode is not None, "enabled": None, "pending": None,
              "volatile_corrected": None, "volatile_uncorrected": None,
              "aggregate_corrected": None, "aggregate_uncorrected": None}
    if mode is None:
        return result
    result["enabled"] = bool(mode[0])
    result["pending"] = bool(mode[1])
    if not mode[0]:
        return result
    corrected = getattr(nvml, "NVML_MEMORY_ERROR_TYPE_CORRECTED", 0)
    uncorrected = getattr(nvml, "NVML_MEMORY_ERROR_TYPE_UNCORRECTED", 1)
    volatile = getattr(nvml, "NVML_VOLATILE_ECC", 0)
    aggregate = getattr(nvml, "NVML_AGGREGATE_ECC", 1)
    result["volatile_corrected"] = reader.get("nvmlDeviceGetTotalEccErrors", handle, corrected, volatile)
    result["volatile_uncorrected"] = reader.get("nvmlDeviceGetTotalEccErrors", handle, uncorrected, volatile)
    result["aggregate_corrected"] = reader.get("nvmlDeviceGetTotalEccErrors", handle, corrected, aggregate)
    result["aggregate_uncorrected"] = reader.get("nvmlDeviceGetTotalEccErrors", handle, uncorrected, aggregate)
    return result


def _nvlink_active(reader, handle):
    """Number of active NVLink links, or None where NVLink is not offered (GeForce, PCIe parts)."""
    nvml = reader.nvml
    max_links = getattr(nvml, "NVML_NVLINK_MAX_LINKS", 18)
    active = 0
    seen_any = False
    for link in range(max_links):
        try:
            state = nvml.nvmlDeviceGetNvLinkState(handle, link)
        except nvml.NVMLError:  # pylint: disable=catching-non-exception
            # Links past the last one answer INVALID_ARGUMENT / NOT_SUPPORTED: stop there.
            break
        except AttributeError:
            return None
        seen_any = True
        if state:
            active += 1
    return active if seen_any else None


def device_info(reader, handle, index):
    """Everything gpu_facts reports about one GPU."""
    nvml = reader.nvml
    clock_sm = getattr(nvml, "NVML_CLOCK_SM", 1)
    clock_mem = getattr(nvml, "NVML_CLOCK_MEM", 2)
    memory = reader.get("nvmlDeviceGetMemoryInfo", handle)
    pci = reader.get("nvmlDeviceGetPciInfo", handle)
    capability = reader.get("nvmlDeviceGetCudaComputeCapability", handle)
    limits = reader.get("nvmlDeviceGetPowerManagementLimitConstraints", handle)
    reasons_mask = reader.first(
        ["nvmlDeviceGetCurrentClocksEventReasons", "nvmlDeviceGetCurrentClocksThrottleReasons"], handle)
    utilization = reader.get("nvmlDeviceGetUtilizationRates", handle)
    persistence = reader.get("nvmlDeviceGetPersistenceMode", handle)
    arch = reader.get("nvmlDeviceGetArchitecture", handle)

    pcie = {
        "gen_current": reader.get("nvmlDeviceGetCurrPcieLinkGeneration", handle),
        "gen_max": reader.get("nvmlDeviceGetMaxPcieLinkGeneration", handle),
        "gen_gpu_max": reader.get("nvmlDeviceGetGpuMaxPcieLinkGeneration", handle),
        "width_current": reader.get("nvmlDeviceGetCurrPcieLinkWidth", handle),
        "width_max": reader.get("nvmlDeviceGetMaxPcieLinkWidth", handle),
        "replay_counter": reader.get("nvmlDeviceGetPcieReplayCounter", handle),
    }
    pcie["below_max"] = _link_below_max(pcie)

    info = {
        "index": index,
        "name": _text(reader.get("nvmlDeviceGetName", handle)),
        "uuid": _text(reader.get("nvmlDeviceGetUUID", handle)),
        "serial": _text(reader.get("nvmlDeviceGetSerial", handle)),
        "pci_bus_id": _text(getattr(pci, "busId", None)) if pci is not None else None,
        "pci_device_id": ("0x%08x" % pci.pciDeviceId) if pci is not None else None,
        "architecture": ARCHITECTURES.get(arch, "unknown") if arch is not None else None,
        "compute_capability": ("%d.%d" % tuple(capability)) if capability else None,
        "memory_total_mib": _mib(getattr(memory, "total", None)),
        "memory_used_mib": _mib(getattr(memory, "used", None)),
        "temperature_c": reader.get("nvmlDeviceGetTemperature", handle, getattr(nvml, "NVML_TEMPERATURE_GPU", 0)),
        "fan_speed_percent": reader.get("nvmlDeviceGetFanSpeed", handle),
        "performance_state": reader.get("nvmlDeviceGetPerformanceState", handle),
        "power_draw_w": _watts(reader.get("nvmlDeviceGetPowerUsage", handle)),
        "power_limit_w": _watts(reader.get("nvmlDeviceGetEnforcedPowerLimit", handle)),
        "power_limit_default_w": _watts(reader.get("nvmlDeviceGetPowerManagementDefaultLimit", handle)),
        "power_limit_min_w": _watts(limits[0]) if limits else None,
        "power_limit_max_w": _watts(limits[1]) if limits else None,
        "clocks": {
            "sm_mhz": reader.get("nvmlDeviceGetClockInfo", handle, clock_sm),
            "sm_max_mhz": reader.get("nvmlDeviceGetMaxClockInfo", handle, clock_sm),
            "memory_mhz": reader.get("nvmlDeviceGetClockInfo", handle, clock_mem),
            "memory_max_mhz": reader.get("nvmlDeviceGetMaxClockInfo", handle, clock_mem),
        },
        "utilization_gpu_percent": getattr(utilization, "gpu", None),
        "utilization_memory_percent": getattr(utilization, "memory", None),
        "pcie": pcie,
        "ecc": _ecc(reader, handle),
        "clocks_event_reasons_mask": reasons_mask,
        "clocks_event_reasons": decode_clock_event_reasons(reasons_mask),
        "persistence_mode": (bool(persistence) if persistence is not None else None),
        "nvlink_active_links": _nvlink_active(reader, handle),
        "vbios_version": _text(reader.get("nvmlDeviceGetVbiosVersion", handle)),
    }
    return info


def _link_below_max(pcie):
    """True when the link runs below what this GPU in this slot can do.

    Idle GPUs lower their PCIe generation to save power, so a low ``gen_current`` at idle is
    normal; the width does not change with load. We therefore compare the system's maximum
    generation with the GPU's own maximum, and the current width with the maximum width.
    """
    flags = []
    if pcie["gen_max"] is not None and pcie["gen_gpu_max"] is not None:
        flags.append(pcie["gen_max"] < pcie["gen_gpu_max"])
    if pcie["width_current"] is not None and pcie["width_max"] is not None:
        flags.append(pcie["width_current"] < pcie["width_max"])
    if not flags:
        return None
    return any(flags)


def interconnect(reader, handles):
    """How each pair of GPUs is connected: NVLink where links are active, else the PCIe path."""
    pairs = []
    nvlink = [_nvlink_active(reader, h) for h in handles]
    for i in range(len(handles)):
        for j in range(i + 1, len(handles)):
            level = reader.get("nvmlDeviceGetTopologyCommonAncestor", handles[i], handles[j])
            pcie_path = TOPOLOGY_LEVELS.get(level, level) if level is not None else None
            link = "NVLink" if (nvlink[i] and nvlink[j]) else pcie_path
            pairs.append({"gpus": [i, j], "link": link, "pcie_path": pcie_path})
    return {"nvlink_active_links": nvlink, "pairs": pairs}


# --- Path facts (gpu_bandwidth): what each GPU's links and memory can carry at most ------------

NVML_FI_DEV_NVLINK_SPEED_MBPS_COMMON = 90   # nvml.h field id: common NVLink speed of active links, MB/s
# nvmlDeviceGetP2PStatus capability indices and the status values (nvml.h, NVML_P2P_*).
P2P_CAPS = (("read", 0), ("write", 1), ("nvlink", 2))
P2P_STATUS = {
    0: "ok",
    1: "chipset_not_supported",
    2: "gpu_not_supported",
    3: "ioh_topology_not_supported",
    4: "disabled_by_regkey",
    5: "not_supported",
    6: "unknown",
}


def cpu_list(mask_words, word_bits=64):
    """CPU numbers of an affinity bit mask (a list of words, lowest CPUs first) as '0-15,32-47'."""
    cpus = [w * word_bits + b for w, word in enumerate(mask_words or []) for b in range(word_bits)
            if int(word) >> b & 1]
    ranges = []
    for cpu in cpus:
        if ranges and cpu == ranges[-1][1] + 1:
            ranges[-1][1] = cpu
        else:
            ranges.append([cpu, cpu])
    return ",".join(("%d" % a) if a == b else ("%d-%d" % (a, b)) for a, b in ranges) or None


def _numa_node_sysfs(bus_id):
    """NUMA node of a PCI device from sysfs (-1 when the platform has none), or None."""
    if not bus_id:
        return None
    bus = bus_id.lower()
    if len(bus) > 12:  # NVML pads the PCI domain to 8 hex digits; sysfs uses 4
        bus = bus[-12:]
    try:
        with open("/sys/bus/pci/devices/%s/numa_node" % bus) as handle:
            return int(handle.read().strip())
    except (OSError, ValueError):
        return None


def _nvlink_speed_mbps(reader, handle):
    get = getattr(reader.nvml, "nvmlDeviceGetFieldValues", None)
    if get is None:
        return None
    try:
        values = get(handle, [NVML_FI_DEV_NVLINK_SPEED_MBPS_COMMON])
    except reader.nvml.NVMLError:  # pylint: disable=catching-non-exception
        return None
    if not values or getattr(values[0], "nvmlReturn", 1) != 0:
        return None
    speed = getattr(getattr(values[0], "value", None), "uiVal", None)
    return int(speed) if speed else None


def path_facts(reader, handle, bus_id=None):
    """What the limits of one GPU's paths are computed from: memory bus width and clock, NVLink
    speed, NUMA node and CPU affinity. A value the GPU does not offer is None."""
    nvml = reader.nvml
    numa = reader.get("nvmlDeviceGetNumaNodeId", handle)
    if numa is None:
        numa = _numa_node_sysfs(bus_id)
    words = (os.cpu_count() or 64) // 64 + 1
    affinity = reader.get("nvmlDeviceGetCpuAffinity", handle, words)
    return {
        "memory_bus_width_bits": reader.get("nvmlDeviceGetMemoryBusWidth", handle),
        "memory_clock_max_mhz": reader.get("nvmlDeviceGetMaxClockInfo", handle, getattr(nvml, "NVML_CLOCK_MEM", 2)),
        "nvlink_speed_mbps": _nvlink_speed_mbps(reader, handle),
        "numa_node": numa,
        "cpu_affinity": cpu_list(list(affinity)) if affinity is not None else None,
    }


def p2p_status(reader, handle_a, handle_b):
    """NVML's answer to 'can these two GPUs reach each other directly', per capability."""
    out = {}
    for name, index in P2P_CAPS:
        code = reader.get("nvmlDeviceGetP2PStatus", handle_a, handle_b, index)
        out[name] = P2P_STATUS.get(code, code) if code is not None else None
    return out


def inventory(nvml, with_interconnect=True, with_paths=False):
    """Full inventory. Never raises for a missing library or driver: count 0 and a reason.

    ``with_paths`` adds each GPU's path facts (``paths``) and each pair's P2P status."""
    if nvml is None:
        return {"count": 0, "gpus": [], "reason": "NVML binding not available", "system": {}}
    try:
        nvml.nvmlInit()
    except nvml.NVMLError as exc:  # pylint: disable=catching-non-exception
        return {"count": 0, "gpus": [], "reason": init_failure_reason(exc), "system": {}}
    except OSError as exc:
        return {"count": 0, "gpus": [], "reason": "the NVML library could not be loaded: %s" % exc, "system": {}}
    try:
        reader = Reader(nvml)
        system = system_info(reader)
        count = nvml.nvmlDeviceGetCount()
        handles = [nvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
        gpus = [device_info(reader, h, i) for i, h in enumerate(handles)]
        links = interconnect(reader, handles) if ((with_interconnect or with_paths) and count > 1) else None
        if with_paths:
            for gpu, handle in zip(gpus, handles):
                gpu["paths"] = path_facts(reader, handle, gpu.get("pci_bus_id"))
            for pair in (links or {}).get("pairs", []):
                i, j = pair["gpus"]
                pair["p2p"] = p2p_status(reader, handles[i], handles[j])
        reason = None if count else "the NVIDIA driver is loaded but reports no GPU"
        return {
            "count": count,
            "gpus": gpus,
            "reason": reason,
            "system": system,
            "interconnect": links,
            "unsupported_queries": sorted(reader.unsupported),
        }
    finally:
        try:
            nvml.nvmlShutdown()
        except nvml.NVMLError:  # pylint: disable=catching-non-exception
            pass


def telemetry_sample(reader, handle, index):
    """One telemetry row for one GPU (used by the samplers of ddp_benchmark and stress_gpu)."""
    nvml = reader.nvml
    utilization = reader.get("nvmlDeviceGetUtilizationRates", handle)
    memory = reader.get("nvmlDeviceGetMemoryInfo", handle)
    mask = reader.first(
        ["nvmlDeviceGetCurrentClocksEventReasons", "nvmlDeviceGetCurrentClocksThrottleReasons"], handle)
    return {
        "time": time.time(),
        "gpu": index,
        "temperature_c": reader.get("nvmlDeviceGetTemperature", handle, getattr(nvml, "NVML_TEMPERATURE_GPU", 0)),
        "power_w": _watts(reader.get("nvmlDeviceGetPowerUsage", handle)),
        "sm_clock_mhz": reader.get("nvmlDeviceGetClockInfo", handle, getattr(nvml, "NVML_CLOCK_SM", 1)),
        "memory_clock_mhz": reader.get("nvmlDeviceGetClockInfo", handle, getattr(nvml, "NVML_CLOCK_MEM", 2)),
        "utilization_gpu_percent": getattr(utilization, "gpu", None),
        "utilization_memory_percent": getattr(utilization, "memory", None),
        "memory_used_mib": _mib(getattr(memory, "used", None)),
        "clocks_event_reasons_mask": mask,
        "clocks_event_reasons": decode_clock_event_reasons(mask),
    }


def monitor_sample(reader, handle, index):
    """telemetry_sample plus what a live view shows beside it (limits, totals, fan, P-state)."""
    row = telemetry_sample(reader, handle, index)
    memory = reader.get("nvmlDeviceGetMemoryInfo", handle)
    row.update({
        "memory_total_mib": _mib(getattr(memory, "total", None)),
        "power_limit_w": _watts(reader.get("nvmlDeviceGetEnforcedPowerLimit", handle)),
        "fan_speed_percent": reader.get("nvmlDeviceGetFanSpeed", handle),
        "performance_state": reader.get("nvmlDeviceGetPerformanceState", handle),
    })
    return row


# --- Health counters and XID events (used by stress_gpu's telemetry sampler) -----------------

NVML_ERROR_TIMEOUT = 10          # nvmlEventSetWait: no event within the timeout
NVML_ERROR_GPU_IS_LOST = 15
XID_CRITICAL_ERROR_EVENT = 0x8   # nvmlEventTypeXidCriticalError
# nvmlPerfPolicyType_t values for nvmlDeviceGetViolationStatus (nvml.h, NVML_PERF_POLICY_*).
VIOLATION_POLICIES = (("power", 0), ("thermal", 1))


def health_counters(reader, handle):
    """Error and slowdown counters of one GPU; a counter the GPU does not offer reads as None.

    * ECC: volatile (since the driver loaded) corrected and uncorrected error totals, only when
      ECC is enabled (GeForce boards have none);
    * PCIe replay counter (link-level retransmissions);
    * violation times: NVML's cumulative seconds during which clocks were held below the
      requested clock by the power limit or by temperature (nvmlDeviceGetViolationStatus).
      They catch slowdowns shorter than a sampling interval.
    """
    nvml = reader.nvml
    mode = reader.get("nvmlDeviceGetEccMode", handle)
    ecc_on = bool(mode and mode[0])
    result = {
        "ecc_enabled": ecc_on if mode is not None else None,
        "ecc_corrected_volatile": None,
        "ecc_uncorrected_volatile": None,
        "pcie_replay_counter": reader.get("nvmlDeviceGetPcieReplayCounter", handle),
    }
    if ecc_on:
        volatile = getattr(nvml, "NVML_VOLATILE_ECC", 0)
        result["ecc_corrected_volatile"] = reader.get(
            "nvmlDeviceGetTotalEccErrors", handle, getattr(nvml, "NVML_MEMORY_ERROR_TYPE_CORRECTED", 0), volatile)
        result["ecc_uncorrected_volatile"] = reader.get(
            "nvmlDeviceGetTotalEccErrors", handle, getattr(nvml, "NVML_MEMORY_ERROR_TYPE_UNCORRECTED", 1), volatile)
    for name, policy in VIOLATION_POLICIES:
        status = reader.get("nvmlDeviceGetViolationStatus", handle, policy)
        ns = getattr(status, "violationTime", None)
        result["%s_violation_s" % name] = round(ns / 1e9, 3) if ns is not None else None
    return result


class XidWatcher:
    """Collects XID critical-error events of the given GPUs through an NVML event set.

    ``handles`` is a list of (index, handle). Where the driver or GPU does not offer XID events,
    ``supported[index]`` is False and ``reason`` says why; nothing raises.
    """

    def __init__(self, nvml, handles):
        self.nvml = nvml
        self.handles = list(handles)
        self.supported = dict((index, False) for index, _handle in self.handles)
        self.reason = None
        self.event_set = None
        create = getattr(nvml, "nvmlEventSetCreate", None)
        if create is None:
            self.reason = "this nvidia-ml-py has no NVML event API"
            return
        try:
            self.event_set = create()
        except nvml.NVMLError as exc:  # pylint: disable=catching-non-exception
            self.reason = "NVML could not create an event set: %s" % exc
            return
        kind = getattr(nvml, "nvmlEventTypeXidCriticalError", XID_CRITICAL_ERROR_EVENT)
        for index, handle in self.handles:
            try:
                offered = nvml.nvmlDeviceGetSupportedEventTypes(handle)
                if not offered & kind:
                    continue
                nvml.nvmlDeviceRegisterEvents(handle, kind, self.event_set)
                self.supported[index] = True
            except nvml.NVMLError as exc:  # pylint: disable=catching-non-exception
                self.reason = "NVML refused to register XID events: %s" % exc
        if not any(self.supported.values()) and self.reason is None:
            self.reason = "the driver offers no XID events for these GPUs"

    def _index_of(self, device):
        try:
            return self.nvml.nvmlDeviceGetIndex(device)
        except Exception:  # pylint: disable=broad-except
            pass
        for index, handle in self.handles:
            if handle == device:
                return index
        return None

    def poll(self, timeout_ms=0, limit=100):
        """Events that arrived since the last poll: [{gpu, xid, time}] (gpu None if unknown)."""
        events = []
        if self.event_set is None or not any(self.supported.values()):
            return events
        wait = getattr(self.nvml, "nvmlEventSetWait_v2", None) or self.nvml.nvmlEventSetWait
        for _attempt in range(limit):
            try:
                data = wait(self.event_set, timeout_ms)
            except self.nvml.NVMLError as exc:  # pylint: disable=catching-non-exception
                if error_code(exc) != NVML_ERROR_TIMEOUT:
                    events.append({"gpu": None, "xid": None, "time": time.time(),
                                   "error": "NVML event wait failed: %s" % exc})
                break
            events.append({"gpu": self._index_of(data.device), "xid": int(data.eventData), "time": time.time()})
            timeout_ms = 0
        return events

    def close(self):
        if self.event_set is not None:
            try:
                self.nvml.nvmlEventSetFree(self.event_set)
            except Exception:  # pylint: disable=broad-except
                pass
            self.event_set = None


def memory_used_mib(reader, handle):
    """(used, total) device memory of one GPU in MiB, or (None, None)."""
    memory = reader.get("nvmlDeviceGetMemoryInfo", handle)
    return _mib(getattr(memory, "used", None)), _mib(getattr(memory, "total", None))


def process_memory_mib(reader, handle):
    """{pid: MiB} of the compute processes on one GPU; {} where NVML cannot tell.

    NVML reports ``usedGpuMemory`` as None for a process whose usage it cannot see (for example
    under some containers, where it also reports host PIDs).
    """
    procs = reader.get("nvmlDeviceGetComputeRunningProcesses", handle)
    result = {}
    for proc in procs or []:
        used = getattr(proc, "usedGpuMemory", None)
        pid = getattr(proc, "pid", None)
        if pid is not None and used is not None:
            result[int(pid)] = result.get(int(pid), 0) + _mib(used)
    return result


# --- Telemetry over a run (ddp_benchmark; usable by any module that waits on a workload) -------


class TelemetrySampler:
    """Samples every GPU's utilisation, memory, temperature and power while a workload runs.

    Made to be driven from a wait loop (``_proc.ChildRun.wait(on_tick=sampler.tick)``), so no
    thread runs beside the module and nothing runs inside the measured processes. ``tick()``
    reads at most once per ``interval`` seconds. Rows are compact tuples (see ``FIELDS``);
    ``window()`` summarises them per GPU between two wall-clock times.

    NVML's "GPU utilisation" is the share of the driver's last sample period (1/6 s to 1 s,
    depending on the product) during which at least one kernel was running on the GPU. It says
    nothing about how many SMs those kernels used: a single small kernel that keeps the GPU
    busy reads 100 %.
    """

    FIELDS = ("time", "gpu", "utilization_gpu_percent", "memory_used_mib", "temperature_c", "power_w")

    def __init__(self, nvml, interval=0.2):
        self.nvml = nvml
        self.interval = interval
        self.reader = None
        self.handles = []
        self.devices = []
        self.rows = []
        self.reason = None
        self._last = 0.0
        self._open = False

    def open(self):
        """Initialise NVML and list the GPUs. Returns None, or why sampling is not possible."""
        if self.nvml is None:
            self.reason = "the NVML binding is not available"
            return self.reason
        try:
            self.nvml.nvmlInit()
        except self.nvml.NVMLError as exc:  # pylint: disable=catching-non-exception
            self.reason = init_failure_reason(exc)
            return self.reason
        except OSError as exc:
            self.reason = "the NVML library could not be loaded: %s" % exc
            return self.reason
        self._open = True
        self.reader = Reader(self.nvml)
        count = self.nvml.nvmlDeviceGetCount()
        self.handles = [self.nvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
        for index, handle in enumerate(self.handles):
            pci = self.reader.get("nvmlDeviceGetPciInfo", handle)
            self.devices.append({
                "index": index,
                "name": _text(self.reader.get("nvmlDeviceGetName", handle)),
                "uuid": _text(self.reader.get("nvmlDeviceGetUUID", handle)),
                "pci_bus_id": _text(getattr(pci, "busId", None)) if pci is not None else None,
            })
        if not count:
            self.reason = "the NVIDIA driver reports no GPU"
        return self.reason

    def tick(self, *_args):
        """Read every GPU once, unless the last reading is younger than ``interval``."""
        if not self._open or not self.handles:
            return
        now = time.time()
        if now - self._last < self.interval:
            return
        self._last = now
        for index, handle in enumerate(self.handles):
            try:
                row = telemetry_sample(self.reader, handle, index)
            except self.nvml.NVMLError:  # pylint: disable=catching-non-exception
                continue
            self.rows.append((row["time"], index, row["utilization_gpu_percent"], row["memory_used_mib"],
                              row["temperature_c"], row["power_w"]))

    def interconnect(self):
        if not self._open or len(self.handles) < 2:
            return None
        return interconnect(self.reader, self.handles)

    def close(self):
        if self._open:
            self._open = False
            try:
                self.nvml.nvmlShutdown()
            except self.nvml.NVMLError:  # pylint: disable=catching-non-exception
                pass

    def window(self, start, end, gpus=None, util_settle=0.0):
        """Per GPU within [start, end]: sample count, utilisation mean/min/max, peak memory,
        peak temperature, mean power. GPUs without a sample in the window are left out.

        NVML's utilisation is the busy share of the driver's last sample period (up to 1 s), so a
        reading taken early in the window also covers time before it: with ``util_settle`` > 0
        utilisation comes only from samples at least that long after ``start`` (all of the
        window's samples when none is that late)."""
        summary = {}
        for t, gpu, util, mem, temp, power in self.rows:
            if t < start or t > end or (gpus is not None and gpu not in gpus):
                continue
            acc = summary.setdefault(gpu, {"util": [], "late_util": [], "mem": [], "temp": [], "power": []})
            for key, value in (("util", util), ("mem", mem), ("temp", temp), ("power", power)):
                if value is not None:
                    acc[key].append(value)
            if util is not None and t >= start + util_settle:
                acc["late_util"].append(util)
        out = {}
        for gpu, acc in sorted(summary.items()):
            if util_settle > 0 and acc["late_util"]:
                acc["util"] = acc["late_util"]
            out[gpu] = {
                "samples": max(len(acc["util"]), len(acc["mem"])),
                "utilization_mean_percent": round(sum(acc["util"]) / len(acc["util"]), 1) if acc["util"] else None,
                "utilization_min_percent": min(acc["util"]) if acc["util"] else None,
                "utilization_max_percent": max(acc["util"]) if acc["util"] else None,
                "memory_used_max_mib": max(acc["mem"]) if acc["mem"] else None,
                "temperature_max_c": max(acc["temp"]) if acc["temp"] else None,
                "power_mean_w": round(sum(acc["power"]) / len(acc["power"]), 1) if acc["power"] else None,
            }
        return out
