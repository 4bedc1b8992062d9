#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

DOCUMENTATION = r"""
---
module: gpu_facts
short_description: Inventory NVIDIA GPUs through NVML and check them against expectations
version_added: "0.1.0"
description:
  - Reads every NVIDIA GPU through NVML, using NVIDIA's official Python binding C(nvidia-ml-py)
    (import name C(pynvml)), and returns the inventory as C(ansible_facts).
  - Reports per GPU its name, UUID, PCI bus id, memory, compute capability, temperature, power
    draw and limits, clocks, PCIe link (current and maximum, flagging a link below its maximum),
    ECC mode and error counts, current clocks-event (throttle) reasons decoded to names and
    persistence mode; and the driver, CUDA driver and NVML versions.
  - A host without the NVML library or without a loaded driver is not an error; the module
    returns C(gpu_count=0) and a plain reason in C(gpu_facts_reason).
  - Optional expectations (count, driver version, name pattern, PCIe generation and width) are
    judged into C(checks); a failed expectation fails the task with one sentence per failure,
    unless O(fail_on_threshold=false).
  - If the interpreter running the module lacks C(pynvml), the module also looks for it in the
    site-packages folders given by O(binding_search_paths) (the collection's AI venv by default);
    the binding is pure Python, so any Python 3 interpreter can use that copy.
  - The module reads only. It never reports C(changed).
extends_documentation_fragment:
  - vaultcube.demobox.validation
  - vaultcube.demobox.validation.nvml
options:
  expected_count:
    description:
      - Number of GPUs this host must have. Not judged when unset.
    type: int
  min_driver_version:
    description:
      - Lowest acceptable NVIDIA driver version, for example V(570) or V(570.124.06).
        Compared numerically, part by part.
    type: str
  expected_name:
    description:
      - Regular expression every GPU name must match (searched, case-insensitive), for example
        V(RTX 5090).
    type: str
  min_pcie_gen:
    description:
      - Lowest acceptable PCIe generation of each GPU's link, compared with the highest generation
        the link supports in this slot (idle GPUs lower their current generation to save power,
        so the current value is reported but not judged).
    type: int
  min_pcie_width:
    description:
      - Lowest acceptable current PCIe link width (lanes) of each GPU.
    type: int
  max_temperature_c:
    description:
      - Highest acceptable temperature of any GPU right now, in degrees C. Not judged when unset.
    type: float
  forbidden_clocks_event_reasons:
    description:
      - Clocks-event (throttle) reasons that fail the C(gpu_facts.clocks_events) check when any
        GPU reports one right now. V(sw_power_cap) and V(gpu_idle) are normal and allowed by default.
    type: list
    elements: str
    choices: [gpu_idle, applications_clocks_setting, sw_power_cap, hw_slowdown, sync_boost,
              sw_thermal_slowdown, hw_thermal_slowdown, hw_power_brake_slowdown, display_clock_setting]
    default: [hw_slowdown, hw_thermal_slowdown, hw_power_brake_slowdown, sw_thermal_slowdown]
  interconnect:
    description:
      - Also report how each pair of GPUs is linked (NVLink or the PCIe path).
    type: bool
    default: true
requirements:
  - nvidia-ml-py (C(pynvml)) on the managed host; the NVIDIA driver for any GPU to be found.
notes:
  - NVML's PCIe and ECC queries are not offered on every GPU (GeForce boards have no ECC);
    values a GPU does not offer are V(null), never guessed.
seealso:
  - name: NVML API reference
    description: The library this module reads.
    link: https://docs.nvidia.com/deploy/nvml-api/
attributes:
  action_group:
    support: full
    membership:
      - vaultcube.demobox.gpu
    description: Set its shared options once with C(module_defaults) and C(group/vaultcube.demobox.gpu).
author:
  - VaultCube engineering (@vaultcube)
"""

EXAMPLES = r"""
- name: Read the GPU inventory.
  vaultcube.demobox.gpu_facts:

- name: Require the demo box's four RTX 5090s on a 570+ driver at PCIe gen 5 x16.
  vaultcube.demobox.gpu_facts:
    expected_count: 4
    expected_name: "RTX 5090"
    min_driver_version: "570"
    min_pcie_gen: 5
    min_pcie_width: 16

- name: Show the GPU names.
  ansible.builtin.debug:
    msg: "{{ ansible_facts.gpus | map(attribute='name') | list }}"
"""

RETURN = r"""
ansible_facts:
  description: The GPU inventory.
  returned: always
  type: complex
  contains:
    gpu_count:
      description: Number of NVIDIA GPUs NVML reports (0 when NVML or the driver is missing).
      type: int
      sample: 4
    gpu_facts_reason:
      description: Why no GPU was found; V(null) when GPUs were found.
      type: str
      sample: "the NVML library (libnvidia-ml.so.1) was not found: no NVIDIA driver is installed"
    nvidia_driver_version:
      description: Driver version.
      type: str
      sample: "580.95.05"
    nvidia_cuda_driver_version:
      description: Highest CUDA version the driver supports.
      type: str
      sample: "13.0"
    nvml_version:
      description: NVML library version.
      type: str
      sample: "13.580.95.05"
    gpu_interconnect:
      description: How GPU pairs are linked, when more than one GPU is present.
      type: dict
      sample: {"nvlink_active_links": [18, 18], "pairs": [{"gpus": [0, 1], "link": "NVLink", "pcie_path": "SYS"}]}
    gpus:
      description: One entry per GPU, in NVML index order.
      type: list
      elements: dict
      contains:
        index: {description: NVML index., type: int, sample: 0}
        name: {description: Product name., type: str, sample: "NVIDIA GeForce RTX 5090"}
        uuid: {description: GPU UUID., type: str, sample: "GPU-3f1c..."}
        serial: {description: Board serial number (V(null) on boards that do not report one)., type: str}
        pci_bus_id: {description: PCI bus id., type: str, sample: "00000000:01:00.0"}
        pci_device_id: {description: PCI device and vendor id as NVML reports it., type: str, sample: "0x2b8510de"}
        architecture: {description: GPU architecture., type: str, sample: "blackwell"}
        compute_capability: {description: CUDA compute capability., type: str, sample: "12.0"}
        memory_total_mib: {description: Total memory in MiB., type: int, sample: 32607}
        memory_used_mib: {description: Used memory in MiB., type: int, sample: 15}
        temperature_c: {description: GPU core temperature in degrees C., type: int, sample: 34}
        fan_speed_percent: {description: Fan speed (V(null) on passively cooled boards)., type: int}
        performance_state: {description: "Performance state (0 = P0, the fastest).", type: int, sample: 8}
        power_draw_w: {description: Power draw in W., type: float, sample: 21.5}
        power_limit_w: {description: Enforced power limit in W., type: float, sample: 575.0}
        power_limit_default_w: {description: Default power limit in W., type: float, sample: 575.0}
        power_limit_min_w: {description: Lowest settable power limit in W., type: float, sample: 400.0}
        power_limit_max_w: {description: Highest settable power limit in W., type: float, sample: 600.0}
        clocks:
          description: Current and maximum clocks in MHz.
          type: dict
          contains:
            sm_mhz: {description: Current SM clock., type: int}
            sm_max_mhz: {description: Maximum SM clock., type: int}
            memory_mhz: {description: Current memory clock., type: int}
            memory_max_mhz: {description: Maximum memory clock., type: int}
        utilization_gpu_percent: {description: Share of the last sample period in which a kernel ran., type: int}
        utilization_memory_percent: {description: Share of the last sample period in which memory was read or written., type: int}
        pcie:
          description: PCIe link.
          type: dict
          contains:
            gen_current: {description: Current link generation (lower at idle)., type: int}
            gen_max: {description: Highest generation of this GPU in this slot., type: int}
            gen_gpu_max: {description: Highest generation the GPU itself supports., type: int}
            width_current: {description: Current link width in lanes., type: int}
            width_max: {description: Highest link width in lanes., type: int}
            replay_counter: {description: PCIe replay counter., type: int}
            below_max: {description: True when the slot limits the generation or the width is below its maximum., type: bool}
        ecc:
          description: ECC mode and error counts (V(null) where the GPU has no ECC).
          type: dict
          contains:
            supported: {description: Whether the GPU offers ECC., type: bool}
            enabled: {description: Current ECC mode., type: bool}
            pending: {description: ECC mode after the next reset., type: bool}
            volatile_corrected: {description: Corrected errors since the driver loaded., type: int}
            volatile_uncorrected: {description: Uncorrected errors since the driver loaded., type: int}
            aggregate_corrected: {description: Corrected errors over the GPU's life., type: int}
            aggregate_uncorrected: {description: Uncorrected errors over the GPU's life., type: int}
        clocks_event_reasons_mask: {description: Raw clocks-event (throttle) reason bit mask., type: int}
        clocks_event_reasons:
          description: Decoded clocks-event reasons, e.g. V(gpu_idle), V(sw_power_cap), V(hw_thermal_slowdown).
          type: list
          elements: str
        persistence_mode: {description: Whether persistence mode is on., type: bool}
        nvlink_active_links: {description: Active NVLink links (V(null) where NVLink is not offered)., type: int}
        vbios_version: {description: VBIOS version., type: str}
changed:
  description: Always V(false); the module only reads.
  returned: always
  type: bool
  sample: false
passed:
  description: V(true) when every expectation set was met, V(false) when one was not, V(null) when none was set.
  returned: always
  type: bool
checks:
  description: One entry per judged or reported check (C(gpu_facts.count), C(gpu_facts.driver_version), ...).
  returned: always
  type: list
  elements: dict
  sample: [{"name": "gpu_facts.count", "status": "passed", "value": 2, "threshold": {"equals": 2},
            "unit": null, "message": "GPU count is 2, as expected."}]
metrics:
  description: The figures judged (count, driver version, per-GPU PCIe generation and width, elapsed seconds).
  returned: always
  type: dict
thresholds:
  description: The expectations the figures were judged against (V(null) = not judged).
  returned: always
  type: dict
failures:
  description: One sentence per failed expectation.
  returned: always
  type: list
  elements: str
environment:
  description: Driver, CUDA driver, NVML and binding versions, and the GPU names.
  returned: always
  type: dict
tables:
  description: The per-GPU inventory as one report table (empty without GPUs).
  returned: always
  type: list
  elements: dict
"""

import re
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vaultcube.demobox.plugins.module_utils import _args, _nvml
from ansible_collections.vaultcube.demobox.plugins.module_utils import _result as R
from ansible_collections.vaultcube.demobox.plugins.module_utils._util import version_tuple

FORBIDDEN_DEFAULT = ("hw_slowdown", "hw_thermal_slowdown", "hw_power_brake_slowdown", "sw_thermal_slowdown")


def judge(inv, params):
    """Turn the inventory and the expectations into the contract's checks."""
    checks = []
    count = inv["count"]
    gpus = inv["gpus"]
    reason = inv.get("reason")
    driver = inv["system"].get("driver_version")

    count_check = R.judge_equal("gpu_facts.count", "GPU count", count, params["expected_count"])
    if count_check["status"] == R.FAILED and reason:
        count_check["message"] = "Expected %d GPUs, found %d: %s." % (params["expected_count"], count, reason)
    elif count_check["status"] == R.FAILED:
        count_check["message"] = "Expected %d GPUs, found %d." % (params["expected_count"], count)
    elif count_check["status"] == R.INFO and reason:
        count_check["message"] = "GPU count is %d: %s." % (count, reason)
    checks.append(count_check)

    wanted = params["min_driver_version"]
    if count == 0 and driver is None:
        # Without a driver there is no version to judge; the count check carries the failure
        # when GPUs were expected.
        checks.append(R.skipped("gpu_facts.driver_version", "No NVIDIA driver version to report: %s." % (reason or "unknown")))
    elif wanted is None:
        checks.append(R.make_check("gpu_facts.driver_version", R.INFO if driver else R.SKIPPED, driver,
                                   None, None, ("Driver version is %s (no minimum set)." % driver) if driver
                                   else "No NVIDIA driver version to report: %s." % (reason or "unknown")))
    elif driver is None:
        checks.append(R.make_check("gpu_facts.driver_version", R.FAILED, None, {"min": wanted}, None,
                                   "Expected an NVIDIA driver %s or newer, found none: %s." % (wanted, reason or "unknown")))
    elif version_tuple(driver) >= version_tuple(wanted):
        checks.append(R.make_check("gpu_facts.driver_version", R.PASSED, driver, {"min": wanted}, None,
                                   "Driver %s is at or above the minimum %s." % (driver, wanted)))
    else:
        checks.append(R.make_check("gpu_facts.driver_version", R.FAILED, driver, {"min": wanted}, None,
                                   "Expected an NVIDIA driver %s or newer, found %s." % (wanted, driver)))

    pattern = params["expected_name"]
    if pattern is not None and gpus:
        regex = re.compile(pattern, re.IGNORECASE)
        wrong = ["GPU %d is '%s'" % (g["index"], g["name"]) for g in gpus if not regex.search(g["name"] or "")]
        if wrong:
            checks.append(R.make_check("gpu_facts.name", R.FAILED, [g["name"] for g in gpus], {"pattern": pattern}, None,
                                       "Expected every GPU name to match '%s', but %s." % (pattern, ", ".join(wrong))))
        else:
            checks.append(R.make_check("gpu_facts.name", R.PASSED, [g["name"] for g in gpus], {"pattern": pattern}, None,
                                       "Every GPU name matches '%s'." % pattern))
    elif pattern is not None:
        checks.append(R.skipped("gpu_facts.name", "No GPU to match against '%s'." % pattern))

    for key, label, field, unit in (
        ("min_pcie_gen", "PCIe generation", "gen_max", None),
        ("min_pcie_width", "PCIe link width", "width_current", "lanes"),
    ):
        minimum = params[key]
        name = "gpu_facts.pcie_gen" if key == "min_pcie_gen" else "gpu_facts.pcie_width"
        if not gpus:
            if minimum is not None:
                checks.append(R.skipped(name, "No GPU to check the %s of." % label))
            continue
        per_gpu = [R.judge_min(name, label, g["pcie"][field], minimum, unit, subject="GPU %d (%s)" % (g["index"], g["pci_bus_id"]))
                   for g in gpus]
        failed = [c for c in per_gpu if c["status"] == R.FAILED]
        values = [g["pcie"][field] for g in gpus]
        if failed:
            checks.append(R.make_check(name, R.FAILED, values, {"min": minimum}, unit, " ".join(c["message"] for c in failed)))
        elif minimum is None:
            checks.append(R.make_check(name, R.INFO, values, None, unit, "%s per GPU: %s (no minimum set)." % (
                label, ", ".join(str(v) for v in values))))
        elif any(c["status"] == R.SKIPPED for c in per_gpu):
            checks.append(R.make_check(name, R.SKIPPED, values, {"min": minimum}, unit,
                                       "NVML does not report the %s of every GPU." % label))
        else:
            checks.append(R.make_check(name, R.PASSED, values, {"min": minimum}, unit,
                                       "%s of every GPU is at least %s." % (label, minimum)))

    checks.extend(health_checks(inv, params))

    below = [g for g in gpus if g["pcie"].get("below_max")]
    if below:
        checks.append(R.make_check(
            "gpu_facts.pcie_link", R.INFO, [g["index"] for g in below], None, None,
            "PCIe link below its maximum on %s." % ", ".join(
                "GPU %d (gen %s of %s, x%s of x%s)" % (
                    g["index"], g["pcie"]["gen_max"], g["pcie"]["gen_gpu_max"], g["pcie"]["width_current"],
                    g["pcie"]["width_max"]) for g in below)))
    return checks


def health_checks(inv, params):
    """Temperature, uncorrected ECC errors and forbidden clocks-event reasons, per GPU, now."""
    gpus = inv["gpus"]
    if not gpus:
        why = "No GPU to check: %s." % (inv.get("reason") or "none found")
        return [R.skipped("gpu_facts.temperature", why), R.skipped("gpu_facts.ecc_errors", why),
                R.skipped("gpu_facts.clocks_events", why)]
    checks = []
    temps = [g["temperature_c"] for g in gpus]
    hottest = max([t for t in temps if t is not None] or [None])
    limit = params["max_temperature_c"]
    if hottest is not None and limit is not None and hottest > limit:
        hot = ["GPU %d at %s C" % (g["index"], g["temperature_c"]) for g in gpus
               if g["temperature_c"] is not None and g["temperature_c"] > limit]
        checks.append(R.make_check("gpu_facts.temperature", R.FAILED, temps, {"max": limit}, "C",
                                   "GPU temperature above the maximum of %s C: %s." % (limit, ", ".join(hot))))
    else:
        checks.append(R.judge_max("gpu_facts.temperature", "Hottest GPU temperature", hottest, limit, "C"))

    with_ecc = [g for g in gpus if g["ecc"]["enabled"]]
    if not with_ecc:
        checks.append(R.make_check("gpu_facts.ecc_errors", R.INFO, None, None, None,
                                   "No GPU here has ECC enabled, so there are no ECC error counters to check."))
    else:
        bad = ["GPU %d has %d" % (g["index"], g["ecc"]["volatile_uncorrected"]) for g in with_ecc
               if g["ecc"]["volatile_uncorrected"]]
        values = [g["ecc"]["volatile_uncorrected"] for g in with_ecc]
        if bad:
            checks.append(R.make_check("gpu_facts.ecc_errors", R.FAILED, values, {"max": 0}, None,
                                       "Uncorrected ECC errors since the driver loaded: %s." % ", ".join(bad)))
        else:
            checks.append(R.make_check("gpu_facts.ecc_errors", R.PASSED, values, {"max": 0}, None,
                                       "No uncorrected ECC errors on the %d GPU(s) with ECC enabled." % len(with_ecc)))

    forbidden = params["forbidden_clocks_event_reasons"]
    seen = ["GPU %d: %s" % (g["index"], ", ".join(r for r in g["clocks_event_reasons"] if r in forbidden))
            for g in gpus if set(g["clocks_event_reasons"] or []) & set(forbidden)]
    reasons = [g["clocks_event_reasons"] for g in gpus]
    if seen:
        checks.append(R.make_check("gpu_facts.clocks_events", R.FAILED, reasons, {"forbidden": forbidden}, None,
                                   "Forbidden clocks-event reasons active: %s." % "; ".join(seen)))
    elif forbidden:
        checks.append(R.make_check("gpu_facts.clocks_events", R.PASSED, reasons, {"forbidden": forbidden}, None,
                                   "No GPU is slowed by %s." % ", ".join(forbidden)))
    else:
        checks.append(R.make_check("gpu_facts.clocks_events", R.INFO, reasons, None, None,
                                   "Clocks-event reasons reported without judging."))
    return checks


def _pair(current, maximum, fmt="%s"):
    if current is None and maximum is None:
        return None
    return "%s / %s" % (fmt % current if current is not None else "-", fmt % maximum if maximum is not None else "-")


def gpu_tables(inv):
    """The per-GPU inventory as a report table (one row per GPU)."""
    if not inv["gpus"]:
        return []
    rows = []
    for g in inv["gpus"]:
        ecc = g["ecc"]
        rows.append([
            g["index"], g["name"], g["pci_bus_id"], g["compute_capability"], g["memory_total_mib"],
            g["temperature_c"], _pair(g["power_draw_w"], g["power_limit_w"]),
            _pair(g["clocks"]["sm_mhz"], g["clocks"]["sm_max_mhz"]),
            _pair(g["clocks"]["memory_mhz"], g["clocks"]["memory_max_mhz"]),
            _pair(g["pcie"]["gen_current"], g["pcie"]["gen_max"]),
            _pair(g["pcie"]["width_current"], g["pcie"]["width_max"], "x%s"),
            ("on, %s uncorrected" % ecc["volatile_uncorrected"]) if ecc["enabled"] else ("off" if ecc["supported"] else "n/a"),
            g["persistence_mode"], ", ".join(g["clocks_event_reasons"] or []) or "none",
        ])
    return [{
        "title": "GPUs",
        "columns": ["GPU", "name", "PCI bus", "CC", "memory MiB", "temp C", "power W (draw / limit)",
                    "SM MHz (now / max)", "mem MHz (now / max)", "PCIe gen (now / max)", "PCIe width (now / max)",
                    "ECC", "persistence", "clocks events"],
        "rows": rows,
    }]


def run(module, nvml, loader_reason=None):
    params = module.params
    started = time.time()
    if nvml is None:
        inv = {"count": 0, "gpus": [], "reason": loader_reason, "system": {}, "interconnect": None}
    else:
        inv = _nvml.inventory(nvml, with_interconnect=params["interconnect"])
    elapsed = round(time.time() - started, 3)

    checks = judge(inv, params)
    system = inv.get("system", {})
    facts = {
        "gpu_count": inv["count"],
        "gpus": inv["gpus"],
        "gpu_facts_reason": inv.get("reason"),
        "nvidia_driver_version": system.get("driver_version"),
        "nvidia_cuda_driver_version": system.get("cuda_driver_version"),
        "nvml_version": system.get("nvml_version"),
        "gpu_interconnect": inv.get("interconnect"),
    }
    metrics = {
        "gpu_count": inv["count"],
        "driver_version": system.get("driver_version"),
        "pcie_gen_max": [g["pcie"]["gen_max"] for g in inv["gpus"]],
        "pcie_width_current": [g["pcie"]["width_current"] for g in inv["gpus"]],
        "max_temperature_c": max([g["temperature_c"] for g in inv["gpus"] if g["temperature_c"] is not None] or [None]),
        "elapsed_s": elapsed,
    }
    thresholds = {k: params[k] for k in ("expected_count", "min_driver_version", "expected_name", "min_pcie_gen",
                                         "min_pcie_width", "max_temperature_c", "forbidden_clocks_event_reasons")}
    environment = dict(system)
    environment["gpu_names"] = [g["name"] for g in inv["gpus"]]
    environment["unsupported_queries"] = inv.get("unsupported_queries", [])
    if inv["count"]:
        msg = "Found %d GPU(s): %s; driver %s, CUDA %s." % (
            inv["count"], ", ".join(sorted(set(environment["gpu_names"]))), system.get("driver_version"),
            system.get("cuda_driver_version"))
    else:
        msg = "Found no NVIDIA GPU: %s." % inv.get("reason")
    result = R.build_result(checks, metrics, thresholds, environment, ansible_facts=facts,
                            tables=gpu_tables(inv))
    if result["failures"]:
        result["msg"] = " ".join(result["failures"])
    else:
        result["msg"] = msg
    return result


def main():
    argument_spec = dict(
        expected_count=dict(type="int"),
        min_driver_version=dict(type="str"),
        expected_name=dict(type="str"),
        min_pcie_gen=dict(type="int"),
        min_pcie_width=dict(type="int"),
        max_temperature_c=dict(type="float"),
        forbidden_clocks_event_reasons=dict(type="list", elements="str", default=list(FORBIDDEN_DEFAULT),
                                            choices=[pair[1] for pair in _nvml.CLOCK_EVENT_REASONS]),
        interconnect=dict(type="bool", default=True),
    )
    argument_spec.update(_args.common_argspec(worker=False))
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    if params["expected_count"] is not None and params["expected_count"] < 0:
        module.fail_json(msg="expected_count must be 0 or more, got %d." % params["expected_count"])
    for key, top in (("min_pcie_gen", 7), ("min_pcie_width", 32)):
        if params[key] is not None and not 1 <= params[key] <= top:
            module.fail_json(msg="%s must be from 1 to %d, got %d." % (key, top, params[key]))
    temperature = params["max_temperature_c"]
    if temperature is not None and not -273.15 < temperature <= 150:  # NaN fails too
        module.fail_json(msg="max_temperature_c must be above absolute zero (-273.15 C) and at most 150 C, got %s." % temperature)
    if params["min_driver_version"] is not None and not re.match(r"^\d+(\.\d+)*$", params["min_driver_version"].strip()):
        module.fail_json(msg="min_driver_version must look like 570 or 570.124.06, got '%s'." % params["min_driver_version"])
    if params["expected_name"] is not None:
        try:
            re.compile(params["expected_name"])
        except re.error as exc:
            module.fail_json(msg="expected_name is not a valid regular expression: %s." % exc)

    nvml, reason = _nvml.load_binding(params["binding_search_paths"])
    result = run(module, nvml, reason)
    R.exit_with(module, result, params["fail_on_threshold"])


if __name__ == "__main__":
    main()
