#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

DOCUMENTATION = r"""
---
module: gpu_bandwidth
short_description: Measure the paths between the figures - PCIe, GPU memory, GPU-to-GPU and collectives - against their physical limits
version_added: "0.1.0"
description:
  - "Per GPU: host-to-device (H2D) and device-to-host (D2H) copy bandwidth from and to pinned host
    memory over a sweep of sizes, pageable host memory at the largest size, copy bandwidth inside
    GPU memory (read + write, as CUDA's bandwidthTest counts it), and the latency of a 4-byte
    synchronous copy (median)."
  - "Per GPU pair: whether peer access is possible, peer copy bandwidth each way and both ways at
    once with peer access on, and each way again with peer access switched off
    (C(cudaDeviceDisablePeerAccess)), the control: CUDA then stages the copy through host memory,
    so the report shows what P2P buys."
  - "Collectives through C(torch.distributed) (NCCL on GPUs, gloo on the CPU) under PyTorch's own
    launcher (C(python -m torch.distributed.run)): all_reduce, all_gather and reduce_scatter over
    message sizes from 4 bytes to 1 GiB (O(sweep=full): to 4 GiB). Algorithm and bus bandwidth
    as nccl-tests defines them (its doc/PERFORMANCE.md): algbw = S / t with S nccl-tests' size
    (all_reduce the buffer each rank reduces, all_gather the gathered output, reduce_scatter the
    input each rank reduces) and t the slowest rank's time per call; busbw = algbw x 2(n-1)/n for
    all_reduce and x (n-1)/n for all_gather and reduce_scatter, so that it compares with the
    speed of the slowest link. The smallest size gives the latency."
  - "Every collective result is checked exactly: each size first runs once on float32 values whose
    correct result is known bit for bit (a position pattern plus the rank, small integers) and is
    compared element by element on every rank. A wrong element is a failed check naming the
    collective, the size, the ranks and the first wrong element; a hang past O(timeout) is a
    failed check naming the collective, the size, the ranks that entered it and those that never
    did. Every process is stopped; none is left behind."
  - "The physical limit of each path comes from NVML on the host itself: PCIe generation x width
    of the link (usable GB/s per direction after line encoding, e.g. 63 GB/s for gen5 x16), GPU
    memory 2 x memory clock x bus width, NVLink active links x per-link speed (NVML's, else the
    architecture's). Each figure is reported as a % of its limit; a threshold is either GB/s or a
    share of the limit (V('80%')); V(null) reports without judging."
  - "The topology goes into the report: NVML's common ancestor of each GPU pair (one PCIe switch,
    several, the host bridge, the same CPU, across CPUs, or NVLink), NVML's P2P status, each GPU's
    NUMA node and CPU affinity, and PCIe links running below their maximum."
  - "One GPU: the pairs and the collectives are skipped with a sentence, the copies still measured.
    No GPU: O(device=cpu) measures the collectives with gloo on the CPU (CI), figures labelled as
    CPU figures. Without torch the task fails with one sentence."
  - The workers run under O(worker_python) (the AI venv's python by default) in child processes,
    never inside the Ansible module process. The module measures and never changes the host.
extends_documentation_fragment:
  - vaultcube.demobox.validation
  - vaultcube.demobox.validation.nvml
  - vaultcube.demobox.validation.worker
  - vaultcube.demobox.validation.action_groups
options:
  gpus:
    description:
      - NVML indices of the GPUs to measure (their copies, the pairs among them and the
        collectives over them). Default - every GPU.
    type: list
    elements: int
  sweep:
    description:
      - V(quick) (the validation check, under a minute on one GPU) - copies 4 KiB to 256 MiB and
        collectives 4 B to 1 GiB in steps of x4, 3 repeats. V(full) (burn-in) - copies 1 KiB to
        1 GiB and collectives 4 B to 4 GiB in steps of x2, 5 repeats, 4x the bytes per figure.
    type: str
    choices: [quick, full]
    default: quick
  copy_max_bytes:
    description: Largest copy size (overrides the sweep's); the figures compared with the limits are taken at it.
    type: int
  collective_max_bytes:
    description: Largest collective message size (overrides the sweep's).
    type: int
  pairs:
    description: Measure the GPU pairs (peer access on and off).
    type: bool
    default: true
  collectives:
    description: Measure the collectives.
    type: bool
    default: true
  device:
    description:
      - V(cuda) measures the GPUs. V(cpu) runs only the collectives, with gloo on the CPU (for
        hosts without a GPU, and CI); its figures are not GPU figures.
    type: str
    choices: [cuda, cpu]
    default: cuda
  backend:
    description: Process group backend of the collectives; V(auto) is V(nccl) on GPUs, V(gloo) on the CPU.
    type: str
    choices: [auto, nccl, gloo]
    default: auto
  nproc_per_node:
    description: Ranks of the collectives on this node. Default - one per GPU measured; V(2) on V(cpu).
    type: int
  nnodes:
    description: Nodes taking part in the collectives (each runs this module with the same rendezvous and its own O(node_rank)).
    type: int
    default: 1
  node_rank:
    description: This node's rank (0 to O(nnodes)-1) for the static rendezvous (O(master_addr)).
    type: int
    default: 0
  master_addr:
    description: Address of node 0 for a static rendezvous (C(--master-addr)).
    type: str
  master_port:
    description: Port on O(master_addr) (C(--master-port)).
    type: int
    default: 29500
  rdzv_endpoint:
    description: C(host:port) of a C(c10d) rendezvous (C(--rdzv-backend c10d --rdzv-endpoint)); node ranks are then assigned by it.
    type: str
  rdzv_id:
    description: Rendezvous job id (C(--rdzv-id)); the same on every node.
    type: str
    default: vaultcube-gpu-bandwidth
  min_h2d:
    description:
      - Lowest acceptable host-to-device bandwidth per GPU at the largest copy size - GB/s (V(40))
        or a share of the PCIe link's limit (V('80%')). V(null) reports without judging.
    type: raw
  min_d2h:
    description: Lowest acceptable device-to-host bandwidth per GPU, as O(min_h2d).
    type: raw
  min_device_copy:
    description: Lowest acceptable copy bandwidth inside GPU memory (read + write), GB/s or a share of the memory limit.
    type: raw
  min_p2p:
    description:
      - Lowest acceptable GPU-to-GPU copy bandwidth of each pair (its slower way; the staged copy
        where peer access is not possible), GB/s or a share of the pair's link limit.
    type: raw
  min_busbw:
    description:
      - Lowest acceptable all_reduce bus bandwidth at the largest message size, GB/s or a share of
        the slowest GPU-to-GPU link's limit.
    type: raw
  max_copy_latency_us:
    description: Highest acceptable latency of a small synchronous host-GPU copy, in microseconds.
    type: float
  max_collective_latency_us:
    description: Highest acceptable time of an all_reduce of the smallest size, in microseconds.
    type: float
  timeout:
    description:
      - Seconds the whole measurement may take (probe, copies, collectives). A collective still
        running then is reported as a hang, naming the collective, the size and the ranks; every
        process is stopped.
    type: int
    default: 600
requirements:
  - C(torch) in O(worker_python) (with CUDA and NCCL for GPUs); the NVIDIA driver and C(nvidia-ml-py) for the limits and topology.
notes:
  - GPU indices are NVML's (PCI bus order); the workers run with C(CUDA_DEVICE_ORDER=PCI_BUS_ID) so
    that torch counts the same way, and the collectives see only the GPUs measured.
  - For a test of the failure paths, the workers read C(VAULTCUBE_BANDWIDTH_FAULT) from their
    environment (C(stall,rank=R,op=OP,bytes=N) or C(corrupt,...)); it is never set otherwise.
seealso:
  - name: nccl-tests performance notes
    description: The algbw and busbw definitions the module follows.
    link: https://github.com/NVIDIA/nccl-tests/blob/master/doc/PERFORMANCE.md
  - name: nvbandwidth
    description: NVIDIA's copy-bandwidth tool, for a second opinion on the copy figures.
    link: https://github.com/NVIDIA/nvbandwidth
author:
  - VaultCube engineering (@vaultcube)
"""

EXAMPLES = r"""
- name: Measure every path of the box and judge the copies against 80 % of their limits.
  vaultcube.demobox.gpu_bandwidth:
    min_h2d: "80%"
    min_d2h: "80%"
    min_device_copy: "75%"
    min_busbw: 20

- name: Burn-in sweep (copies to 1 GiB, collectives to 4 GiB), reported without thresholds.
  vaultcube.demobox.gpu_bandwidth:
    sweep: full
    timeout: 3600
  register: paths

- name: The collectives on the CPU with gloo (a host without a GPU, CI).
  vaultcube.demobox.gpu_bandwidth:
    device: cpu
    collective_max_bytes: 1048576
"""

RETURN = r"""
changed:
  description: Always V(false); the module only measures.
  returned: always
  type: bool
passed:
  description: V(true) when every judged check passed, V(false) when one failed, V(null) when nothing was judged (check mode).
  returned: always
  type: bool
checks:
  description:
    - Per GPU C(gpu_bandwidth.gpuN.h2d), C(.d2h), C(.device_copy), C(.copy_latency); per pair
      C(gpu_bandwidth.pairI_J.p2p); per collective C(gpu_bandwidth.OP.check) (exact results),
      C(.busbw), C(.latency); C(gpu_bandwidth.copies), C(gpu_bandwidth.pairs),
      C(gpu_bandwidth.collectives) when a phase failed or was skipped, with the reason;
      C(gpu_bandwidth.cleanup) if a process survived.
  returned: always
  type: list
  elements: dict
  sample: [{"name": "gpu_bandwidth.gpu0.h2d", "status": "passed", "value": 55.2, "threshold": {"min": 44.1}, "unit": "GB/s",
            "message": "Host-to-device copy bandwidth (pinned at 256 MiB) of GPU 0 (NVIDIA H200) is 55.2 GB/s (87.6% of the
                        PCIe gen5 x16 limit of 63 GB/s), at or above the minimum of 70% of the limit (44.1 GB/s)."}]
metrics:
  description: The figures.
  returned: always
  type: dict
  contains:
    device: {description: V(cuda) or V(cpu)., type: str}
    plan: {description: The sizes and repeat counts measured., type: dict}
    limits:
      description: Per GPU (C(pcie_gbps), C(memory_gbps), C(nvlink_gbps)), per pair (C(gbps), C(path)) and C(collective_gbps), from NVML.
      type: dict
    gpus:
      description:
        - Per GPU - C(h2d_gbps), C(d2h_gbps), C(device_copy_gbps) at the largest size, their C(_percent) of the limit,
          C(pageable), C(latency_us), C(sweep) ([bytes, GB/s] per kind).
      type: list
    pairs:
      description:
        - Per pair - C(peer_access), C(peer) and C(no_peer) GB/s per way, C(peer_gbps), C(no_peer_gbps),
          C(bidirectional_gbps), C(p2p_gain).
      type: list
    collectives:
      description: Per collective, per size - C(bytes), C(time_us), C(algbw_gbps), C(busbw_gbps), C(mismatches), C(wrong_ranks).
      type: dict
    world_size: {description: Ranks of the collectives., type: int}
    slowest_path:
      description:
        - The slowest GPU-to-GPU path measured (the host link on one GPU) - C(path), C(gbps), C(limit_gbps),
          C(percent_of_limit), C(sentence).
      type: dict
    topology: {description: NVML's pairwise topology and P2P status., type: dict}
    elapsed_s: {description: Seconds the module took., type: float}
thresholds:
  description: What the figures were judged against (V(null) = reported only).
  returned: always
  type: dict
failures:
  description: One sentence per failed check.
  returned: always
  type: list
  elements: str
environment:
  description: The workers' interpreter, torch, CUDA and NCCL versions, the driver and the GPUs.
  returned: always
  type: dict
tables:
  description: GPUs and limits, topology, copies per GPU, the P2P matrix, pairs and collectives, as the report renders them.
  returned: success
  type: list
  elements: dict
plots:
  description: Bus bandwidth vs message size, H2D/D2H per GPU, copy bandwidth vs size, GPU-to-GPU bandwidth per pair.
  returned: success
  type: list
  elements: dict
command:
  description: The launcher command of the collectives.
  returned: when the collectives ran or would run
  type: list
  elements: str
msg:
  description: One sentence.
  returned: always
  type: str
"""

import json
import os
import shutil
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vaultcube.demobox.plugins.module_utils import _args, _bandwidth_worker, _ddp_worker, _launch, _nvml, _proc
from ansible_collections.vaultcube.demobox.plugins.module_utils import _bandwidth as B
from ansible_collections.vaultcube.demobox.plugins.module_utils import _result as R

THRESHOLD_KEYS = ("min_h2d", "min_d2h", "min_device_copy", "min_p2p", "min_busbw", "max_copy_latency_us",
                  "max_collective_latency_us")
PROBE_TIMEOUT = 180


def check_params(p):
    """One sentence for the first bad parameter, or None; thresholds parsed into p['_thresholds']."""
    if p["timeout"] < 10:
        return "timeout must be at least 10 seconds, got %d." % p["timeout"]
    for key in ("copy_max_bytes", "collective_max_bytes"):
        if p[key] is not None and p[key] < 4:
            return "%s must be at least 4 bytes, got %d." % (key, p[key])
    if p["gpus"] is not None:
        if not p["gpus"]:
            return "gpus must name at least one GPU index when it is set."
        if any(i < 0 for i in p["gpus"]) or len(set(p["gpus"])) != len(p["gpus"]):
            return "gpus must be distinct GPU indices of 0 or more, got %s." % p["gpus"]
    if p["nproc_per_node"] is not None and p["nproc_per_node"] < 1:
        return "nproc_per_node must be 1 or more, got %d." % p["nproc_per_node"]
    if p["device"] == "cpu" and p["backend"] == "nccl":
        return "backend nccl needs GPUs (device: cuda); the CPU collectives use gloo (backend: auto or gloo)."
    for key in ("max_copy_latency_us", "max_collective_latency_us"):
        if p[key] is not None and p[key] <= 0:
            return "%s must be more than 0, got %s." % (key, p[key])
    problem = _launch.rendezvous_problem(p)
    if problem:
        return problem
    return None


def parse_thresholds(p):
    parsed = {}
    for key in ("min_h2d", "min_d2h", "min_device_copy", "min_p2p", "min_busbw"):
        parsed[key] = B.parse_threshold(key, p[key])
    for key in ("max_copy_latency_us", "max_collective_latency_us"):
        parsed[key] = p[key]
    return parsed


def read_inventory(module, params):
    """NVML inventory with path facts, limited to the GPUs asked for; fails without a GPU."""
    if params["device"] == "cpu":
        return {"count": 0, "gpus": [], "system": {}, "interconnect": None}
    nvml, reason = _nvml.load_binding(params["binding_search_paths"])
    inv = _nvml.inventory(nvml, with_paths=True) if nvml is not None else {"count": 0, "gpus": [], "reason": reason}
    if not inv["count"]:
        module.fail_json(msg="No NVIDIA GPU to measure on this host: %s; device: cpu measures the collectives on the "
                             "CPU with gloo." % (inv.get("reason") or "none found"), changed=False)
    present = [g["index"] for g in inv["gpus"]]
    wanted = params["gpus"] if params["gpus"] is not None else present
    missing = [i for i in wanted if i not in present]
    if missing:
        module.fail_json(msg="GPU %s was asked for, but this host has %d GPU(s), indices %s." % (
            ", ".join(str(i) for i in missing), inv["count"], ", ".join(str(i) for i in present)), changed=False)
    inv["gpus"] = [g for g in inv["gpus"] if g["index"] in wanted]
    links = inv.get("interconnect") or {}
    inv["interconnect"] = {"pairs": [p for p in links.get("pairs") or [] if set(p["gpus"]) <= set(wanted)]}
    return inv


def collective_plan(params, gpus, probe):
    """(ranks per node, world size, backend) or (None, reason) when no collective can run."""
    if not params["collectives"]:
        return None, "The collectives were not asked for (collectives: false)."
    device = params["device"]
    backend = params["backend"] if params["backend"] != "auto" else ("nccl" if device == "cuda" else "gloo")
    per_node = params["nproc_per_node"] or (len(gpus) if device == "cuda" else 2)
    if device == "cuda" and per_node > len(gpus):
        return None, "nproc_per_node %d needs as many GPUs, but %d are measured on this node." % (per_node, len(gpus))
    world = per_node * params["nnodes"]
    if world < 2:
        return None, "Only one GPU takes part: there is no collective to run (collectives need 2 or more ranks)."
    if backend == "nccl" and not probe.get("nccl_available"):
        return None, "NCCL is not available in torch %s in %s: no collective on the GPUs." % (probe.get("torch"), probe.get("python"))
    if backend == "gloo" and not probe.get("gloo_available"):
        return None, "gloo is not available in torch %s in %s." % (probe.get("torch"), probe.get("python"))
    return {"per_node": per_node, "world": world, "backend": backend}, None


def child_env(params, gpus, collectives=False):
    env = dict(os.environ)
    env["CUDA_DEVICE_ORDER"] = "PCI_BUS_ID"
    env.pop("CUDA_VISIBLE_DEVICES", None)
    if collectives and params["device"] == "cuda":
        env["CUDA_VISIBLE_DEVICES"] = ",".join(str(g["index"]) for g in gpus)
    env.setdefault("OMP_NUM_THREADS", "1")
    if params["nnodes"] == 1:
        env.setdefault("GLOO_SOCKET_IFNAME", "lo")
    return env


def run_probe(python, main_script, workdir):
    run = _proc.ChildRun([python, main_script, "probe"], timeout=PROBE_TIMEOUT, grace=5,
                         workdir=os.path.join(workdir, "probe"))
    os.makedirs(run.workdir)
    rc = run.start().wait(poll_interval=0.05)
    lines = [line for line in run.stdout().splitlines() if line.startswith("{")]
    if rc != 0 or not lines:
        tail = run.stderr_tail(3) or run.stdout_tail(3)
        return None, "%s could not run the bandwidth worker's probe: it %s%s." % (
            python, _proc.describe_exit(rc, run.timed_out, PROBE_TIMEOUT), (" (%s)" % " / ".join(tail)) if tail else "")
    info = json.loads(lines[-1])
    info["python"] = python
    return info, None


def _error_sentence(path):
    try:
        with open(path) as handle:
            err = json.load(handle)
        return err.get("sentence")
    except (OSError, ValueError):
        return None


def run_copies(params, gpus, the_plan, python, main_script, workdir, deadline):
    """(records, failed check or None, leftover pids)."""
    out_dir = os.path.join(workdir, "copies")
    os.makedirs(out_dir)
    cfg_path = os.path.join(workdir, "copies.json")
    with open(cfg_path, "w") as handle:
        json.dump(B.copies_config(the_plan, [g["index"] for g in gpus], params["pairs"]), handle)
    timeout = max(1, int(deadline - time.time()))
    run = _proc.ChildRun([python, main_script, "copies", cfg_path, out_dir], env=child_env(params, gpus), timeout=timeout,
                         grace=10, workdir=os.path.join(workdir, "copies-run"))
    os.makedirs(run.workdir)
    rc = run.start().wait(poll_interval=0.1)
    records = B.read_jsonl(os.path.join(out_dir, "copies.jsonl"))
    problem = None
    if run.timed_out:
        last = records[-1] if records else {}
        problem = "The copy measurements did not finish within the time left (%d s of the timeout of %d s) and were " \
                  "stopped; the last figure measured: %s." % (timeout, params["timeout"], json.dumps(last) if last else "none")
    elif rc != 0:
        why = _error_sentence(os.path.join(out_dir, "error-copies.json"))
        tail = run.stderr_tail(3)
        problem = "The copy worker %s%s." % (_proc.describe_exit(rc), (": %s" % why) if why else (
            (" (%s)" % " / ".join(tail)) if tail else ""))
        if _proc.looks_like_oom([why or ""] + tail):
            problem += " Lower copy_max_bytes (now %d)." % max(the_plan["copy_sizes"])
    check = R.make_check("gpu_bandwidth.copies", R.FAILED, None, None, None, problem) if problem else None
    return records, check, run.leftover


def run_collectives(params, gpus, the_plan, cplan, python, main_script, workdir, deadline):
    """(results, failed check or None, leftover pids, argv)."""
    out_dir = os.path.join(workdir, "collectives")
    os.makedirs(out_dir)
    timeout = max(1, int(deadline - time.time()))
    cpu_threads = 1
    cfg_path = os.path.join(workdir, "collectives.json")
    with open(cfg_path, "w") as handle:
        json.dump(B.collectives_config(the_plan, params["device"], cplan["backend"], timeout + 60, cpu_threads), handle)
    argv = _launch.torchrun_argv(python, params, params["nnodes"], cplan["per_node"],
                                 [main_script, "collectives", cfg_path, out_dir])
    run = _proc.ChildRun(argv, env=child_env(params, gpus, collectives=True), timeout=timeout, grace=10,
                         workdir=os.path.join(workdir, "collectives-run"))
    os.makedirs(run.workdir)
    rc = run.start().wait(poll_interval=0.1)
    results, errors, progress = B.read_collective_outputs(out_dir)
    problem = None
    if run.timed_out:
        ranks = list(range(cplan["world"])) if params["nnodes"] == 1 else sorted(progress)
        problem = B.hang_sentence(progress, ranks, params["timeout"])
        problem += " Every process of the collectives was stopped."
    elif rc != 0 or len(results) < cplan["world"]:
        if errors:
            first = sorted(errors, key=lambda e: e.get("time") or 0)[0]
            problem = "The collectives failed on rank %s: %s." % (first.get("rank"), (first.get("sentence") or "").rstrip("."))
        else:
            tail = [line for line in run.stderr_tail(5) if line.strip()]
            problem = "The collectives launcher %s%s." % (_proc.describe_exit(rc), (" (%s)" % " / ".join(tail[-2:])) if tail else "")
    check = R.make_check("gpu_bandwidth.collectives", R.FAILED, None, None, None, problem) if problem else None
    return results, check, run.leftover, argv


def build(params, inv, lims, copies, collectives, world, phase_checks, thresholds, extra):
    cpu = params["device"] == "cpu"
    checks = []
    if cpu:
        checks.append(R.skipped("gpu_bandwidth.copies", "device cpu: no GPU copies to measure; the collectives run with "
                                                        "gloo on the CPU (figures not from a GPU)."))
    else:
        checks.extend(B.gpu_checks(copies, thresholds))
        checks.extend(B.pair_checks(copies, lims["pairs"], thresholds.get("min_p2p")))
    if collectives:
        checks.extend(B.collective_checks(collectives, world, thresholds, lims["collective_gbps"], cpu=cpu))
    checks.extend(phase_checks)
    slowest = None if cpu else B.slowest_path(copies, lims["pairs"])
    tables = [] if cpu else B.topology_tables(inv, lims) + B.copy_tables(copies)
    if collectives:
        tables.append(B.collective_table(collectives, world, params["device"]))
    metrics = {
        "device": params["device"], "plan": extra["plan"], "limits": lims,
        "gpus": copies["gpus"] if copies else [], "pairs": copies["pairs"] if copies else [],
        "collectives": collectives or {}, "world_size": world if collectives else None, "slowest_path": slowest,
        "topology": inv.get("interconnect"), "elapsed_s": extra["elapsed_s"],
    }
    environment = {"device": params["device"], "python": extra.get("python"), "torch": extra.get("torch"),
                   "cuda": extra.get("cuda"), "nccl": extra.get("nccl"),
                   "driver_version": (inv.get("system") or {}).get("driver_version"),
                   "gpus": [{"index": g["index"], "name": g.get("name"), "uuid": g.get("uuid"),
                             "pci_bus_id": g.get("pci_bus_id")} for g in inv.get("gpus") or []]}
    result = R.build_result(checks, metrics, dict((k, params[k]) for k in THRESHOLD_KEYS), environment,
                            tables=tables, plots=B.plots(None if cpu else copies, collectives, params["device"]),
                            command=extra.get("command"))
    if result["passed"] is not False:
        result["msg"] = summary(params, copies, collectives, world, slowest, checks)
    return result


def summary(params, copies, collectives, world, slowest, checks):
    parts = []
    for g in (copies or {}).get("gpus") or []:
        parts.append("GPU %d H2D %s / D2H %s / in memory %s GB/s" % (g["index"], B._num(g["h2d_gbps"]), B._num(g["d2h_gbps"]),
                                                                     B._num(g["device_copy_gbps"])))
    reduce = (collectives or {}).get("all_reduce")
    if reduce:
        parts.append("all_reduce busbw %s GB/s at %s over %d ranks%s" % (
            B._num(reduce[-1]["busbw_gbps"]), B.size_text(reduce[-1]["bytes"]), world,
            " (gloo on the CPU)" if params["device"] == "cpu" else ""))
    if slowest:
        parts.append(slowest["sentence"])
    judged = len([c for c in checks if c["status"] == R.PASSED])
    return "%s; %d judged checks passed." % ("; ".join(parts) or "Nothing was measured", judged)


def main():
    argument_spec = dict(
        gpus=dict(type="list", elements="int"),
        sweep=dict(type="str", default="quick", choices=sorted(B.SWEEPS)),
        copy_max_bytes=dict(type="int"),
        collective_max_bytes=dict(type="int"),
        pairs=dict(type="bool", default=True),
        collectives=dict(type="bool", default=True),
        device=dict(type="str", default="cuda", choices=["cuda", "cpu"]),
        backend=dict(type="str", default="auto", choices=["auto", "nccl", "gloo"]),
        nproc_per_node=dict(type="int"),
        rdzv_id=dict(type="str", default="vaultcube-gpu-bandwidth"),
        min_h2d=dict(type="raw"),
        min_d2h=dict(type="raw"),
        min_device_copy=dict(type="raw"),
        min_p2p=dict(type="raw"),
        min_busbw=dict(type="raw"),
        max_copy_latency_us=dict(type="float"),
        max_collective_latency_us=dict(type="float"),
    )
    argument_spec.update(_args.common_argspec(timeout=600))
    argument_spec.update(dict((k, dict(v)) for k, v in _launch.RENDEZVOUS_ARGS.items()))
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    started = time.time()
    problem = check_params(params)
    if problem:
        module.fail_json(msg=problem, changed=False)
    try:
        thresholds = parse_thresholds(params)
    except ValueError as exc:
        module.fail_json(msg=str(exc), changed=False)
    python = _args.worker_python(module)
    inv = read_inventory(module, params)
    gpus = inv["gpus"]
    lims = B.limits(inv)
    the_plan = B.plan(params)
    cpu = params["device"] == "cpu"

    if module.check_mode:
        what = ("collectives %s to %s with gloo on the CPU" % (B.size_text(the_plan["collective_sizes"][0]),
                                                               B.size_text(the_plan["collective_sizes"][-1])) if cpu else
                "copies %s to %s on GPU %s%s, collectives %s to %s" % (
                    B.size_text(the_plan["copy_sizes"][0]), B.size_text(the_plan["copy_sizes"][-1]),
                    ", ".join(str(g["index"]) for g in gpus), " and their pairs" if len(gpus) > 1 and params["pairs"] else "",
                    B.size_text(the_plan["collective_sizes"][0]), B.size_text(the_plan["collective_sizes"][-1])))
        message = "Check mode: would measure %s (sweep %s) under %s." % (what, params["sweep"], python)
        module.exit_json(**R.build_result([R.skipped("gpu_bandwidth", message)], {"plan": the_plan, "limits": lims},
                                          dict((k, params[k]) for k in THRESHOLD_KEYS), {"python": python}, msg=message))

    workdir = tempfile.mkdtemp(prefix="vaultcube-bandwidth-")
    deadline = started + params["timeout"]
    try:
        main_script = _proc.write_bundle(workdir, [_ddp_worker, _bandwidth_worker], _bandwidth_worker.MAIN_SOURCE,
                                         "bandwidth_main.py")
        probe, reason = run_probe(python, main_script, workdir)
        if probe is None:
            module.fail_json(msg=reason, changed=False, metrics={"limits": lims, "topology": inv.get("interconnect")})
        if not probe.get("torch"):
            module.fail_json(msg="PyTorch is not importable by %s (%s); install torch there (the ai_frameworks role's venv) "
                                 "or point worker_python at an interpreter that has it." % (python, probe.get("torch_error")),
                             changed=False, metrics={"limits": lims, "topology": inv.get("interconnect")})
        if not cpu and not (probe.get("cuda_available") and probe.get("device_count")):
            module.fail_json(msg="torch %s in %s sees no CUDA device (%s), so no GPU path can be measured; device: cpu "
                                 "measures the collectives on the CPU." % (
                                     probe["torch"], python, "a CPU-only build" if not probe.get("cuda_build") else
                                     "built for CUDA %s" % probe["cuda_build"]), changed=False)
        phase_checks, leftover = [], []
        copies = {"gpus": [], "pairs": [], "ended": False}
        if not cpu:
            records, failed, left = run_copies(params, gpus, the_plan, python, main_script, workdir, deadline)
            copies = B.analyse_copies(records, lims["gpus"])
            leftover += left
            if failed:
                phase_checks.append(failed)
            if len(gpus) < 2:
                phase_checks.append(R.skipped("gpu_bandwidth.pairs", "Only one GPU is measured: there is no GPU pair "
                                                                     "to copy between."))
            elif not params["pairs"]:
                phase_checks.append(R.skipped("gpu_bandwidth.pairs", "The GPU pairs were not asked for (pairs: false)."))
        cplan, why_not = collective_plan(params, gpus, probe)
        collectives, world, argv, results = None, None, None, []
        if cplan is None:
            phase_checks.append(R.skipped("gpu_bandwidth.collectives", why_not))
        elif deadline - time.time() < 5:
            phase_checks.append(R.make_check("gpu_bandwidth.collectives", R.FAILED, None, None, None,
                                             "No time was left for the collectives within the timeout of %d s." % params["timeout"]))
        else:
            results, failed, left, argv = run_collectives(params, gpus, the_plan, cplan, python, main_script, workdir,
                                                          deadline)
            leftover += left
            world = cplan["world"]
            if failed:
                phase_checks.append(failed)
            if results:
                collectives = B.analyse_collectives(results, world)
        if leftover:
            phase_checks.append(R.make_check("gpu_bandwidth.cleanup", R.FAILED, leftover, None, None,
                                             "Processes of the measurement survived the cleanup: PIDs %s." % leftover))
        versions = (results[0].get("info") or {}) if (cplan is not None and collectives) else {}
        extra = {"plan": the_plan, "elapsed_s": round(time.time() - started, 2), "python": python,
                 "torch": probe.get("torch"), "cuda": probe.get("cuda_build"), "nccl": versions.get("nccl"),
                 "command": argv}
        result = build(params, inv, lims, copies, collectives, world, phase_checks, thresholds, extra)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    R.exit_with(module, result, params["fail_on_threshold"])


if __name__ == "__main__":
    main()
