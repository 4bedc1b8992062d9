#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

DOCUMENTATION = r"""
---
module: stress_gpu
short_description: Load every GPU with checked matrix multiplications for a duration and judge the run
version_added: "0.1.0"
description:
  - Starts one worker process per GPU that keeps the GPU busy with large matrix multiplications
    (C(torch.matmul)) in the chosen O(dtype) for O(duration) seconds, filling the chosen share of
    GPU memory with output buffers.
  - Like gpu-burn it checks results. Every O(check_every) products one output buffer is compared,
    element by element on the GPU, with a reference product computed at the start; a healthy
    GPU reproduces it bit for bit, so each differing element is counted as a mismatch (silent
    data corruption). Unlike gpu-burn, a fault fails the task.
  - An NVML sampler records, every O(sample_interval) seconds and per GPU, temperature, power,
    SM and memory clocks, utilisation, clocks-event (throttle) reasons decoded to names, ECC
    error counters, the PCIe replay counter and NVML's power/thermal violation times; XID
    critical errors are collected through an NVML event set where the driver offers it. Each
    sample, merged with that window's achieved TFLOP/s, is appended to the CSV at O(csv_path) as
    the run goes, so a long run can be watched and its record survives a crash.
  - The run is judged per GPU - the worker ran to the end, mismatching elements, highest
    temperature, forbidden clocks-event reasons, XID errors, new uncorrectable ECC errors, and
    optionally the sustained TFLOP/s (lowest window) and mean utilisation - with one sentence per
    fault naming the GPU.
  - The load lasts O(duration) seconds from the moment every worker has allocated its memory
    (startup, typically 5-30 s, comes on top). When one worker dies or hangs, the others are
    stopped and the run fails naming that GPU. A SIGTERM (an C(async) timeout, Ctrl-C) stops
    every worker; no process is left behind.
  - Heavy work runs in child processes under O(worker_python) (the AI venv's python by default),
    never inside the Ansible module process.
  - The module measures and never changes the host; C(changed) is always V(false). In check mode
    it says what it would run and runs nothing.
extends_documentation_fragment:
  - vaultcube.demobox.validation
  - vaultcube.demobox.validation.nvml
  - vaultcube.demobox.validation.worker
  - vaultcube.demobox.validation.action_groups
options:
  duration:
    description:
      - Seconds of load, from the moment every worker is ready. V(86400) is the 24 hour burn-in.
    type: int
    default: 300
  gpus:
    description:
      - NVML indices of the GPUs to load. Default - every GPU.
    type: list
    elements: int
  dtype:
    description:
      - Data type of the matrices. V(tf32) multiplies float32 matrices on TF32 tensor cores;
        V(fp32) keeps full float32 precision.
    type: str
    choices: [bf16, fp16, tf32, fp32, fp64]
    default: bf16
  matrix_size:
    description:
      - Size N of the square N x N matrices (2 N^3 floating-point operations per product).
    type: int
    default: 8192
  memory_fraction:
    description:
      - Share of each GPU's memory in use once its worker has allocated its output buffers
        (what other processes hold counts too). At least one output buffer is always allocated.
    type: float
    default: 0.9
  check_every:
    description:
      - Compare one output buffer with the reference product after every this many products.
        Each check reads two matrices, about 1/4 of one product's time at 8192, so the default
        costs well under 1 % of throughput.
    type: int
    default: 16
  tolerance:
    description:
      - Largest absolute difference from the reference that is not a mismatch. V(0) demands
        bit-identical results, which cuBLAS delivers for repeated identical products on one GPU.
    type: float
    default: 0.0
  sample_interval:
    description:
      - Seconds between NVML samples, which is also the length of a throughput window.
    type: float
    default: 5.0
  csv_path:
    description:
      - CSV file on the host that receives one row per GPU and sample as the run goes (columns in
        docs/stress_gpu.md). Its directory is created if missing. Default
        C(/var/tmp/vaultcube/stress_gpu-<UTC time>.csv).
    type: path
  max_temperature_c:
    description:
      - Highest acceptable GPU temperature during the run, in degrees C. V(null) reports without judging.
    type: float
    default: 85.0
  forbidden_clocks_event_reasons:
    description:
      - Clocks-event (throttle) reasons that fail the run when a sample sees one. The default
        forbids thermal slowdowns and the power brake; V(sw_power_cap) (running at the power
        limit, normal under full load) is reported with its time, not failed.
    type: list
    elements: str
    choices: [gpu_idle, applications_clocks_setting, sw_power_cap, hw_slowdown, sync_boost,
              sw_thermal_slowdown, hw_thermal_slowdown, hw_power_brake_slowdown, display_clock_setting]
    default: [hw_slowdown, hw_thermal_slowdown, sw_thermal_slowdown, hw_power_brake_slowdown]
  max_mismatches:
    description:
      - Largest acceptable number of mismatching result elements per GPU. V(null) reports without judging.
    type: int
    default: 0
  max_xid_errors:
    description:
      - Largest acceptable number of XID critical errors per GPU during the run. V(null) reports without judging.
    type: int
    default: 0
  max_ecc_uncorrected:
    description:
      - Largest acceptable number of new uncorrectable ECC errors per GPU during the run
        (GPUs without ECC report none). V(null) reports without judging.
    type: int
    default: 0
  min_tflops:
    description:
      - Lowest acceptable sustained throughput per GPU in TFLOP/s, judged against the GPU's
        lowest full window. Not judged when unset.
    type: float
  min_gpu_utilization:
    description:
      - Lowest acceptable mean GPU utilisation (percent) under load. Not judged when unset.
    type: float
  startup_timeout:
    description:
      - Seconds every worker may take to import torch and allocate its memory before the run fails.
    type: int
    default: 600
  device:
    description:
      - V(cuda) loads the GPUs. V(cpu) is for testing the orchestration on a machine without a
        GPU (small matrices, no NVML telemetry); its figures are labelled as CPU figures and are
        not a GPU result.
    type: str
    choices: [cuda, cpu]
    default: cuda
requirements:
  - On the host - the NVIDIA driver, C(nvidia-ml-py) (C(pynvml)), and C(torch) with CUDA in O(worker_python).
notes:
  - For long runs use C(async) with C(poll) (see C(playbooks/stress.yml)); the module's own
    timeout is O(duration) + O(startup_timeout) + 2 minutes. Watch a run on the host with
    C(tail -f) on the CSV, C(nvtop) or C(nvidia-smi dmon).
  - Throttle time per reason is estimated from the samples (a reason seen in a sample counts for
    the interval before it); NVML's violation counters, reported beside it, catch shorter events.
seealso:
  - name: gpu-burn
    description: The multi-GPU burn-in tool whose result check this module follows.
    link: https://github.com/wilicc/gpu-burn
  - name: NVML API reference
    description: The library the telemetry comes from.
    link: https://docs.nvidia.com/deploy/nvml-api/
author:
  - VaultCube engineering (@vaultcube)
"""

EXAMPLES = r"""
- name: Load every GPU for ten minutes with bf16 matrix multiplications and judge the run.
  vaultcube.demobox.stress_gpu:
    duration: 600

- name: Run the 24 hour burn-in in the background, polling once a minute.
  vaultcube.demobox.stress_gpu:
    duration: 86400
    csv_path: /var/tmp/vaultcube/burn-in.csv
    min_tflops: 200
  async: 90000
  poll: 60

- name: Stress GPUs 0 and 1 in TF32 and keep the result for the report.
  vaultcube.demobox.stress_gpu:
    gpus: [0, 1]
    dtype: tf32
    duration: 120
    fail_on_threshold: false
  register: stress
"""

RETURN = r"""
changed:
  description: Always V(false); the module only measures.
  returned: always
  type: bool
  sample: false
passed:
  description: V(true) when every judged check passed, V(false) when one failed, V(null) in check mode.
  returned: always
  type: bool
checks:
  description:
    - C(stress_gpu.run), then per GPU C(stress_gpu.gpuN.worker), C(.tflops), C(.mismatches),
      C(.temperature), C(.clocks_events), C(.xid_errors), C(.ecc_errors), C(.utilization) and
      C(.telemetry); C(stress_gpu.device) on the CPU test path.
  returned: always
  type: list
  elements: dict
  sample: [{"name": "stress_gpu.gpu0.temperature", "status": "passed", "value": 61, "threshold": {"max": 85.0},
            "unit": "C", "message": "GPU 0 (NVIDIA H200) reached 61 C (mean 55.2 C, idle 31 C), within the maximum of 85 C."}]
metrics:
  description: The figures of the run.
  returned: success
  type: dict
  contains:
    device: {description: V(cuda) or V(cpu) (the CPU test path)., type: str}
    dtype: {description: Data type of the matrices., type: str}
    matrix_size: {description: Matrix size N., type: int}
    memory_fraction: {description: Requested share of GPU memory in use., type: float}
    check_every: {description: Products between two result checks., type: int}
    tolerance: {description: Mismatch tolerance., type: float}
    duration_s: {description: Seconds of load asked for., type: float}
    load_s: {description: Seconds from the common start to the last completed window (the load actually run)., type: float}
    startup_s: {description: Seconds from starting the workers to the common start (imports and allocation)., type: float}
    interval_s: {description: Sample interval and window length in seconds., type: float}
    end_reason: {description: "How the run ended: V(completed), V(worker_failed), V(startup_failed), V(interrupted)
                 or V(null) when the orchestrator left no final record.", type: str}
    end_signal: {description: "Signal that interrupted the run, if any.", type: int}
    end_message: {description: "Which worker failed, when one did.", type: str}
    telemetry: {description: Whether NVML telemetry was recorded., type: bool}
    telemetry_reason: {description: "Why there is no telemetry, if there is none.", type: str}
    xid_supported: {description: Per GPU index (as a string) whether XID events were watched., type: dict}
    xid_reason: {description: "Why XID events are not watched on some GPU, if so.", type: str}
    python: {description: The workers' interpreter., type: str}
    torch: {description: The workers' torch version., type: str}
    cuda: {description: CUDA version torch was built for., type: str}
    csv_path: {description: The telemetry CSV., type: str}
    gpu_count: {description: GPUs loaded., type: int}
    tflops_min: {description: Lowest window TFLOP/s of any GPU (the sustained figure)., type: float}
    tflops_mean: {description: Mean over GPUs of each GPU's mean TFLOP/s., type: float}
    tflops_total: {description: Sum over GPUs of each GPU's mean TFLOP/s., type: float}
    max_temperature_c: {description: Highest temperature of any GPU., type: float}
    mismatches: {description: Mismatching result elements over all GPUs., type: int}
    xid_errors: {description: XID errors over all GPUs., type: int}
    ecc_uncorrected_new: {description: New uncorrectable ECC errors over all GPUs (V(null) without ECC)., type: int}
    per_gpu:
      description:
        - One entry per GPU - C(index), C(name), C(uuid), C(windows), C(tflops_mean),
          C(tflops_min), C(tflops_max), C(loaded_s), C(device_busy_s), C(matmuls), C(checks),
          C(mismatches), C(first_mismatch_s), C(startup_mismatches), C(ring_buffers), C(ring_gib),
          C(memory_used_fraction), C(matmul_ms), C(samples), C(sample_errors), C(sample_error),
          C(temperature_idle_c), C(temperature_max_c), C(temperature_mean_c), C(power_max_w),
          C(power_mean_w), C(sm_clock_mean_mhz), C(sm_clock_min_mhz), C(utilization_mean_percent),
          C(throttle_s) (seconds per clocks-event reason), C(throttle_samples), C(power_violation_s),
          C(thermal_violation_s), C(ecc_enabled), C(ecc_uncorrected_new), C(ecc_corrected_new),
          C(pcie_replay_new), C(xid_errors), C(xids), C(worker) (C(state), C(message), C(rc), C(elapsed_s)).
      type: list
      elements: dict
thresholds:
  description: What the run was judged against (V(null) = not judged).
  returned: always
  type: dict
  sample: {"max_temperature_c": 85.0, "max_mismatches": 0, "min_tflops": null}
failures:
  description: One sentence per failed check, naming the GPU.
  returned: always
  type: list
  elements: str
  sample: ["The stress worker on GPU 1 (NVIDIA H200) died 8.1 s into the 30 s run: was killed by SIGKILL."]
environment:
  description: The device kind, the workers' interpreter, torch and CUDA versions, driver versions and the GPUs loaded.
  returned: always
  type: dict
tables:
  description: Per-GPU summary and run settings, as the validation report renders them.
  returned: success
  type: list
  elements: dict
plots:
  description: TFLOP/s per window, temperature, power and SM clock over the run, per GPU (at most 600 points a series).
  returned: success
  type: list
  elements: dict
csv_path:
  description: The telemetry CSV written on the host.
  returned: always
  type: str
  sample: /var/tmp/vaultcube/stress_gpu-20261128T101500Z.csv
msg:
  description: One sentence - the failures, or a summary of the run.
  returned: always
  type: str
"""

import json
import os
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vaultcube.demobox.plugins.module_utils import _args, _nvml, _proc, _stress, _stress_worker
from ansible_collections.vaultcube.demobox.plugins.module_utils import _result as R

THRESHOLD_KEYS = ("max_temperature_c", "forbidden_clocks_event_reasons", "max_mismatches", "max_xid_errors",
                  "max_ecc_uncorrected", "min_tflops", "min_gpu_utilization")
STOP_GRACE = 30
CPU_MATRIX_LIMIT = 2048


def check_params(p):
    """One sentence for the first bad parameter, or None."""
    if p["duration"] < 1:
        return "duration must be at least 1 second, got %d." % p["duration"]
    if p["sample_interval"] < 0.5:
        return "sample_interval must be at least 0.5 seconds, got %s." % p["sample_interval"]
    if not 0 < p["memory_fraction"] <= 0.98:
        return "memory_fraction must be above 0 and at most 0.98, got %s." % p["memory_fraction"]
    if p["matrix_size"] < 16:
        return "matrix_size must be at least 16, got %d." % p["matrix_size"]
    if p["device"] == "cpu" and p["matrix_size"] > CPU_MATRIX_LIMIT:
        return "matrix_size must be at most %d on the CPU test path, got %d." % (CPU_MATRIX_LIMIT, p["matrix_size"])
    if p["check_every"] < 1:
        return "check_every must be at least 1, got %d." % p["check_every"]
    if p["tolerance"] < 0:
        return "tolerance must be 0 or more, got %s." % p["tolerance"]
    if p["startup_timeout"] < 1:
        return "startup_timeout must be at least 1 second, got %d." % p["startup_timeout"]
    gpus = p["gpus"]
    if gpus is not None:
        if not gpus:
            return "gpus must name at least one GPU index when it is set."
        if any(i < 0 for i in gpus) or len(set(gpus)) != len(gpus):
            return "gpus must be distinct GPU indices of 0 or more, got %s." % gpus
    for key in ("max_mismatches", "max_xid_errors", "max_ecc_uncorrected"):
        if p[key] is not None and p[key] < 0:
            return "%s must be 0 or more, got %d." % (key, p[key])
    return None


def default_csv_path(now=None):
    return "/var/tmp/vaultcube/stress_gpu-%s.csv" % time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))


def select_gpus(module, params):
    """The GPUs to load as [{index, uuid, name, pci_bus_id}] and the system info; fails without a GPU."""
    if params["device"] == "cpu":
        indices = params["gpus"] or [0]
        return [{"index": i, "uuid": None, "name": "CPU", "pci_bus_id": None} for i in indices], {}
    nvml, reason = _nvml.load_binding(params["binding_search_paths"])
    if nvml is None:
        inv = {"count": 0, "gpus": [], "reason": reason, "system": {}}
    else:
        inv = _nvml.inventory(nvml, with_interconnect=False)
    if not inv["count"]:
        module.fail_json(msg="No NVIDIA GPU to stress on this host: %s." % (inv.get("reason") or "none found"),
                         changed=False)
    present = [g["index"] for g in inv["gpus"]]
    wanted = params["gpus"] if params["gpus"] is not None else present
    missing = [i for i in wanted if i not in present]
    if missing:
        module.fail_json(msg="GPU %s was asked for, but this host has %d GPU(s), indices %s." % (
            ", ".join(str(i) for i in missing), inv["count"], ", ".join(str(i) for i in present)), changed=False)
    gpus = [{"index": g["index"], "uuid": g["uuid"], "name": g["name"], "pci_bus_id": g["pci_bus_id"]}
            for g in inv["gpus"] if g["index"] in wanted]
    return gpus, inv.get("system") or {}


def describe_plan(params, gpus, python, csv_path):
    names = sorted(set(g["name"] or "unknown" for g in gpus))
    where = ("%s (%s)" % (_gpu_list(gpus), ", ".join(names))) if params["device"] == "cuda" else (
        "%d CPU worker(s) (CPU test path, not a GPU result)" % len(gpus))
    return ("%s %dx%d matrix multiplications on %s for %d s (memory fraction %s, a result check every %d products), "
            "NVML sampled every %s s into %s, under %s" % (
                params["dtype"], params["matrix_size"], params["matrix_size"], where, params["duration"],
                params["memory_fraction"], params["check_every"], params["sample_interval"], csv_path, python))


def _gpu_list(gpus):
    return ("GPU " if len(gpus) == 1 else "GPUs ") + ", ".join(str(g["index"]) for g in gpus)


def startup_failure(records, python, params):
    """The sentence for a run whose workers never all became ready."""
    failed = [r for r in records if r.get("type") == "worker_exit" and r.get("state") == "startup_failed"]
    if not failed:
        return None
    by_message = {}
    for record in failed:
        by_message.setdefault(record.get("message") or "no reason given", []).append(record["gpu"])
    label = "GPU" if params["device"] == "cuda" else "CPU worker"
    parts = []
    for message, indices in sorted(by_message.items(), key=lambda item: sorted(item[1])):
        indices = sorted(indices)
        parts.append("on %s%s %s: %s" % (label, "s" if len(indices) > 1 else "", ", ".join(str(i) for i in indices),
                                         message.rstrip(".")))
    text = "The stress workers could not start %s (worker python %s)" % ("; ".join(parts), python)
    if any(_proc.looks_like_oom([r.get("message") or ""]) for r in failed):
        text += "; lower memory_fraction (now %s) or matrix_size (now %d)" % (
            params["memory_fraction"], params["matrix_size"])
    return text + "."


def run_stress(module, params, gpus, system, python, csv_path):
    with _proc.work_dir("stress") as workdir:
        main_script = _proc.write_bundle(workdir, [_nvml, _proc, _stress_worker], _stress_worker.MAIN_SOURCE,
                                         "stress_main.py")
        config_path = os.path.join(workdir, "config.json")
        jsonl_path = os.path.join(workdir, "run.jsonl")
        cfg = {
            "device": params["device"], "gpus": gpus, "duration": params["duration"],
            "interval": params["sample_interval"], "dtype": params["dtype"], "matrix_size": params["matrix_size"],
            "memory_fraction": params["memory_fraction"], "check_every": params["check_every"],
            "tolerance": params["tolerance"], "csv_path": csv_path, "jsonl_path": jsonl_path, "workdir": workdir,
            "main_script": main_script, "config_path": config_path, "startup_timeout": params["startup_timeout"],
            "stop_grace": STOP_GRACE, "binding_search_paths": params["binding_search_paths"],
        }
        with open(config_path, "w") as handle:
            json.dump(cfg, handle)
        timeout = params["duration"] + params["startup_timeout"] + STOP_GRACE + 90
        run = _proc.ChildRun([python, main_script, "orchestrate", config_path], timeout=timeout, grace=15,
                             workdir=workdir).start()
        rc = run.wait()
        records = _stress.read_records(jsonl_path)
        if not any(r.get("type") == "meta" for r in records):
            tail = run.stderr_tail(5) or run.stdout_tail(5)
            module.fail_json(msg="The stress orchestrator could not start under %s: it %s%s." % (
                python, _proc.describe_exit(rc, run.timed_out, timeout), (" (%s)" % tail[-1]) if tail else ""),
                changed=False)
        if not any(r.get("type") == "load" for r in records):
            text = startup_failure(records, python, params)
            module.fail_json(msg=text or "The stress workers never started the load: the orchestrator %s." % (
                _proc.describe_exit(rc, run.timed_out, timeout)), changed=False)
        leftover = run.leftover
        return records, rc, run.timed_out, timeout, leftover


def build(params, records, system, python, csv_path, timed_out=False, timeout=None, leftover=None):
    summary = _stress.summarize(records)
    thresholds = dict((k, params[k]) for k in THRESHOLD_KEYS)
    checks = _stress.judge(summary, thresholds)
    if timed_out:
        position = [c["name"] for c in checks].index("stress_gpu.run")
        checks[position] = R.make_check(
            "stress_gpu.run", R.FAILED, summary.get("load_s"), {"duration": summary.get("duration_s")}, "s",
            "The stress run did not finish within the module's timeout of %s s and was stopped." % timeout)
    if leftover:
        checks.append(R.make_check("stress_gpu.cleanup", R.FAILED, leftover, None, None,
                                   "Processes of the stress run survived the cleanup: PIDs %s." % leftover))
    metrics = _stress.metrics(summary)
    environment = {
        "device": params["device"], "python": python, "torch": summary.get("torch"), "cuda": summary.get("cuda"),
        "driver_version": system.get("driver_version"), "cuda_driver_version": system.get("cuda_driver_version"),
        "nvml_version": system.get("nvml_version"),
        "gpus": [{"index": g["index"], "name": g["name"], "uuid": g["uuid"]} for g in summary["gpus"]],
    }
    result = R.build_result(checks, metrics, thresholds, environment, tables=_stress.tables(summary),
                            plots=_stress.plots(records, summary), csv_path=csv_path)
    if result["passed"] is not False:
        result["msg"] = success_message(summary, metrics, checks)
    return result


def success_message(summary, metrics, checks):
    judged = len([c for c in checks if c["status"] == R.PASSED])
    cpu = summary.get("device") == "cpu"
    text = "%sStressed %d %s for %s s with %s %dx%d products: lowest window %s TFLOP/s, mean %s TFLOP/s per %s" % (
        "CPU test run (not a GPU result): " if cpu else "", metrics["gpu_count"], "CPU worker(s)" if cpu else "GPU(s)",
        metrics.get("load_s"), summary.get("dtype"), summary.get("matrix_size"), summary.get("matrix_size"),
        metrics.get("tflops_min"), metrics.get("tflops_mean"), "worker" if cpu else "GPU")
    if metrics.get("max_temperature_c") is not None:
        text += ", hottest %s C" % metrics["max_temperature_c"]
    return text + ", %d mismatching elements; all %d judged checks passed." % (metrics["mismatches"], judged)


def main():
    argument_spec = dict(
        duration=dict(type="int", default=300),
        gpus=dict(type="list", elements="int"),
        dtype=dict(type="str", default="bf16", choices=sorted(_stress_worker.DTYPES)),
        matrix_size=dict(type="int", default=8192),
        memory_fraction=dict(type="float", default=0.9),
        check_every=dict(type="int", default=16),
        tolerance=dict(type="float", default=0.0),
        sample_interval=dict(type="float", default=5.0),
        csv_path=dict(type="path"),
        max_temperature_c=dict(type="float", default=85.0),
        forbidden_clocks_event_reasons=dict(type="list", elements="str", default=list(_stress.FORBIDDEN_DEFAULT),
                                            choices=[pair[1] for pair in _nvml.CLOCK_EVENT_REASONS]),
        max_mismatches=dict(type="int", default=0),
        max_xid_errors=dict(type="int", default=0),
        max_ecc_uncorrected=dict(type="int", default=0),
        min_tflops=dict(type="float"),
        min_gpu_utilization=dict(type="float"),
        startup_timeout=dict(type="int", default=600),
        device=dict(type="str", default="cuda", choices=["cuda", "cpu"]),
    )
    argument_spec.update(_args.common_argspec())
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    problem = check_params(params)
    if problem:
        module.fail_json(msg=problem, changed=False)
    python = _args.worker_python(module)
    gpus, system = select_gpus(module, params)
    csv_path = params["csv_path"] or default_csv_path()
    thresholds = dict((k, params[k]) for k in THRESHOLD_KEYS)
    plan = describe_plan(params, gpus, python, csv_path)
    environment = {"device": params["device"], "python": python, "driver_version": system.get("driver_version"),
                   "gpus": [{"index": g["index"], "name": g["name"], "uuid": g["uuid"]} for g in gpus]}

    if module.check_mode:
        message = "Check mode: would run %s." % plan
        result = R.build_result([R.skipped("stress_gpu.run", message)], {}, thresholds, environment, msg=message,
                                csv_path=csv_path)
        module.exit_json(**result)

    try:
        os.makedirs(os.path.dirname(os.path.abspath(csv_path)), exist_ok=True)
        with open(csv_path, "a"):
            pass
    except OSError as exc:
        module.fail_json(msg="Cannot write the telemetry CSV %s: %s." % (csv_path, exc.strerror or exc), changed=False)

    records, _rc, timed_out, timeout, leftover = run_stress(module, params, gpus, system, python, csv_path)
    result = build(params, records, system, python, csv_path, timed_out, timeout, leftover)
    R.exit_with(module, result, params["fail_on_threshold"])


if __name__ == "__main__":
    main()
