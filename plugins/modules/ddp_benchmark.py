#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

DOCUMENTATION = r"""
---
module: ddp_benchmark
short_description: Measure PyTorch DistributedDataParallel training throughput and scaling efficiency
version_added: "0.1.0"
description:
  - Trains a real model (default torchvision ResNet-50, 224x224 images, 1000 classes) on synthetic
    data with PyTorch C(DistributedDataParallel) for O(warmup) untimed and O(steps) timed steps, at
    each world size in O(world_sizes) (default V(1) and all GPUs), and reports samples/s per world
    size, per-GPU samples/s, scaling efficiency, step-time statistics and the GPUs' utilisation,
    memory and temperature sampled through NVML during the timed steps.
  - "Definitions. B(samples/s) at world size k = k x O(batch_size) x O(steps) / T, where T is the
    wall time of the timed steps on the slowest rank (every rank synchronises its device before
    and after the timed steps, and the ranks start together after a barrier). B(Scaling efficiency)
    at k = throughput(k) / (k x throughput(1)), in percent; when V(1) is not measured, the smallest
    world size measured takes its place. B(Step time): for each timed step, the longest time any
    rank spent on it (CUDA events, no synchronisation inside the loop); p50/p90/p99 over the steps."
  - "B(GPU utilisation) is NVML's: the share of the driver's sample period (1/6 s to 1 s) during
    which at least one kernel was running. It is not SM occupancy and not achieved FLOP/s: a GPU
    busy with one small kernel reads 100 %. The module samples it from outside the training
    processes about 5 times a second and averages the samples that fall inside each world size's
    timed steps."
  - The training runs in child processes started by PyTorch's own launcher
    (C(python -m torch.distributed.run), i.e. torchrun) under O(worker_python), from a worker
    script that ships in this collection's module_utils. The module process only plans, samples
    NVML and parses. All world sizes are measured in one launch; ranks outside a smaller world size
    wait on a CPU-side group while it is measured.
  - A worker that crashes, hangs past O(timeout) or runs out of memory ends the task with one
    sentence quoting the worker's last error lines; every process it started is stopped.
  - Multi-node runs use torch.distributed's rendezvous (O(rdzv_endpoint) for C(c10d), or
    O(master_addr)/O(master_port)), so an inventory runs the module on every node at once with
    O(nnodes) and O(node_rank) set per host; no other transport is involved.
  - The module measures and never changes the host.
extends_documentation_fragment:
  - vaultcube.demobox.validation
  - vaultcube.demobox.validation.worker
options:
  model:
    description:
      - V(small_cnn) (a small convolutional network defined in the worker, for CPU runs), V(mlp), or
        the name of any torchvision classification model (V(resnet50), V(resnet152), V(vit_b_16),
        ...), built without pretrained weights. torchvision models need torchvision in
        O(worker_python).
    type: str
    default: resnet50
  batch_size:
    description: Samples per GPU (per process) per step.
    type: int
    default: 32
  image_size:
    description: Height and width of the synthetic images.
    type: int
    default: 224
  num_classes:
    description: Classes of the synthetic labels (the model's output size).
    type: int
    default: 1000
  precision:
    description:
      - V(fp32) strict FP32; V(tf32) FP32 with TF32 matmuls and convolutions; V(bf16) and V(fp16)
        autocast mixed precision (V(fp16) with a gradient scaler). On V(cpu) only V(fp32) and V(bf16).
    type: str
    choices: [fp32, tf32, bf16, fp16]
    default: bf16
  channels_last:
    description: Model and input in channels-last memory format (faster convolutions on tensor cores).
    type: bool
    default: true
  steps:
    description: Timed training steps per world size.
    type: int
    default: 500
  warmup:
    description: Untimed steps before the timed ones (cuDNN autotuning, allocator and NCCL warm-up).
    type: int
    default: 20
  world_sizes:
    description:
      - World sizes to measure, in processes (GPUs), for example V([1, 2, 4]). Default V(1) and every
        GPU the interpreter's torch sees on this node times O(nnodes); on V(cpu), V(1) and V(2) per node.
      - The launch starts the largest world size; smaller ones use ranks 0 to k-1.
    type: list
    elements: int
  nproc_per_node:
    description:
      - Processes per node. Default the largest world size divided by O(nnodes).
    type: int
  device:
    description:
      - V(cuda) trains on GPUs (one per process); V(cpu) trains on the CPU with gloo (for hosts
        without a GPU, and CI).
    type: str
    choices: [cuda, cpu]
    default: cuda
  backend:
    description: Process group backend; V(auto) is V(nccl) on GPUs, V(gloo) on the CPU.
    type: str
    choices: [auto, nccl, gloo]
    default: auto
  timeout:
    description: Seconds the whole launch may take before it is stopped and the task fails.
    type: int
    default: 900
  gradient_as_bucket_view:
    description: DDP C(gradient_as_bucket_view) - gradients are views into the all-reduce buckets,
      which saves a copy per parameter after every all-reduce and the memory of a second copy.
    type: bool
    default: true
  batched_grad_copy:
    description:
      - DDP C(batched_grad_copy) (torch 2.13 and later) - gradient-to-bucket copies are done as one
        foreach copy per bucket instead of one kernel per parameter. Ignored, and reported as
        unavailable, with older torch.
    type: bool
    default: true
  static_graph:
    description: DDP C(static_graph) - the graph is the same every step, so DDP can skip per-step bookkeeping.
    type: bool
    default: false
  sync_buffers:
    description:
      - Broadcast the model's buffers (batch-norm running statistics) from rank 0 before every
        forward pass (DDP C(broadcast_buffers) / C(forward_sync_buffers)). They do not affect the
        gradients; off saves one broadcast and a copy per buffer each step. Buffers are always
        synchronised once when DDP starts.
    type: bool
    default: false
  bucket_cap_mb:
    description: DDP all-reduce bucket size in MiB.
    type: float
    default: 25
  cudnn_benchmark:
    description: Let cuDNN time its convolution algorithms during the warm-up and keep the fastest.
    type: bool
    default: true
  input_pipeline:
    description:
      - V(device) - the synthetic batch is made once on the GPU (measures the training step
        alone); V(host) - it lives in pinned host memory and is copied to the GPU every step.
    type: str
    choices: [device, host]
    default: device
  cuda_graphs:
    description:
      - Capture the whole training step (forward, backward with its all-reduces, optimizer step)
        as one CUDA graph after the warm-up and replay it; removes the CPU's kernel-launch cost.
        GPUs only; not with V(fp16) (its gradient scaler reads the GPU every step) or O(compile).
      - Unset (the default) means on wherever it applies (O(device=cuda), O(precision) not V(fp16),
        O(compile) off) and off elsewhere; measured on 1 and 2 H200s it is the fastest setting
        (docs/benchmarks.md). V(false) runs every step eagerly; V(true) insists on it.
    type: bool
  compile:
    description:
      - Wrap the DDP model in C(torch.compile). Compilation takes minutes for large models, all of
        it inside O(warmup)'s first step; raise O(timeout) accordingly.
    type: bool
    default: false
  nnodes:
    description: Number of nodes taking part (each runs this module with its own O(node_rank)).
    type: int
    default: 1
  node_rank:
    description: This node's rank (0 to O(nnodes)-1) for the static rendezvous (O(master_addr)).
    type: int
    default: 0
  master_addr:
    description: Address of node 0 for a static rendezvous (C(--master-addr)). Needed with O(nnodes) > 1 unless O(rdzv_endpoint) is set.
    type: str
  master_port:
    description: Port on O(master_addr) (C(--master-port)).
    type: int
    default: 29500
  rdzv_endpoint:
    description:
      - C(host:port) of a C(c10d) rendezvous (C(--rdzv-backend c10d --rdzv-endpoint)); node ranks
        are then assigned by the rendezvous and O(node_rank) is not used.
    type: str
  rdzv_id:
    description: Rendezvous job id (C(--rdzv-id)); the same on every node.
    type: str
    default: vaultcube-ddp-benchmark
  min_scaling_efficiency:
    description: Lowest acceptable scaling efficiency (percent) at the largest world size. Not judged when unset.
    type: float
  min_gpu_utilization:
    description:
      - Lowest acceptable mean NVML GPU utilisation (percent) of the least busy GPU during the timed
        steps of the largest world size. Not judged when unset.
    type: float
  max_temperature_c:
    description: Highest acceptable GPU temperature (degrees C) during the timed steps. Not judged when unset.
    type: float
  min_throughput:
    description: Lowest acceptable samples/s at the largest world size. Not judged when unset.
    type: float
requirements:
  - PyTorch with C(torch.distributed) in O(worker_python); torchvision for torchvision models.
  - nvidia-ml-py (C(pynvml)) for the GPU utilisation, memory and temperature figures.
notes:
  - Every process is started through the collection's child-process helper - its own session, a
    marker in its environment, a timeout, and a sweep that stops anything left - so a crashed,
    hung or out-of-memory run leaves nothing behind.
  - Multi-node - put the module in a play over all nodes with O(nnodes), O(rdzv_endpoint) (or
    O(master_addr)) and, for a static rendezvous, O(node_rank) from the inventory; the figures
    come back from every node, the GPU telemetry of each node from that node.
seealso:
  - name: torchrun (Elastic Launch)
    description: The launcher the module uses.
    link: https://docs.pytorch.org/docs/stable/elastic/run.html
  - name: DistributedDataParallel
    description: The DDP options the module exposes.
    link: https://docs.pytorch.org/docs/stable/generated/torch.nn.parallel.DistributedDataParallel.html
attributes:
  action_group:
    support: full
    membership:
      - vaultcube.demobox.gpu
      - vaultcube.demobox.gpu_workers
    description: Set its shared options once with C(module_defaults) and C(group/vaultcube.demobox.gpu) or C(group/vaultcube.demobox.gpu_workers).
author:
  - VaultCube engineering (@vaultcube)
"""

EXAMPLES = r"""
- name: ResNet-50 on 1 GPU and on every GPU, judged against the spec's targets.
  vaultcube.demobox.ddp_benchmark:
    min_scaling_efficiency: 80
    min_gpu_utilization: 90

- name: A small model on the CPU with gloo (no GPU needed), as CI runs it.
  vaultcube.demobox.ddp_benchmark:
    device: cpu
    model: small_cnn
    image_size: 32
    num_classes: 10
    batch_size: 16
    precision: fp32
    steps: 20
    warmup: 3
    world_sizes: [1, 2]

- name: Two nodes of four GPUs, run on both hosts of the play at once.
  vaultcube.demobox.ddp_benchmark:
    nnodes: 2
    world_sizes: [1, 4, 8]
    rdzv_endpoint: "{{ hostvars[groups['gpu_nodes'][0]].ansible_host }}:29400"
    rdzv_id: "ddp-{{ ansible_date_time.epoch }}"
  register: ddp

- name: Show the scaling.
  ansible.builtin.debug:
    msg: "{{ ddp.metrics.runs | map(attribute='samples_per_second') | list }}"
"""

RETURN = r"""
changed:
  description: Always V(false); the module only measures.
  returned: always
  type: bool
  sample: false
passed:
  description: V(true) when every threshold set was met, V(false) when one was not, V(null) when none was set.
  returned: always
  type: bool
checks:
  description:
    - C(ddp_benchmark.throughput), C(ddp_benchmark.scaling_efficiency), C(ddp_benchmark.gpu_utilization)
      and C(ddp_benchmark.gpu_temperature), each C(passed), C(failed), C(info) (no threshold) or
      C(skipped) (not measurable, e.g. GPU figures on a CPU run); in check mode one C(skipped)
      check that says the command it would run.
  returned: always
  type: list
  elements: dict
  sample: [{"name": "ddp_benchmark.scaling_efficiency", "status": "passed", "value": 96.1, "threshold": {"min": 80.0},
            "unit": "%", "message": "Scaling efficiency from world size 1 to 2 is 96.1%, at or above the minimum of 80%."}]
metrics:
  description: The figures.
  returned: success
  type: dict
  contains:
    runs:
      description: One entry per world size, smallest first.
      type: list
      elements: dict
      contains:
        world_size: {description: Processes (GPUs) that trained., type: int, sample: 2}
        samples_per_second: {description: "world_size x batch_size x steps / wall time of the slowest rank.", type: float, sample: 2700.5}
        per_gpu_samples_per_second: {description: samples_per_second / world_size., type: float}
        scaling_efficiency_percent:
          description: "(samples/s / world_size) / (samples/s / world_size at the smallest world size measured) x 100."
          type: float
        wall_s: {description: Wall time of the timed steps on the slowest rank., type: float}
        step_time_ms:
          description: Per-step time (the slowest rank's, step by step) - mean, p50, p90, p99, min, max, stdev.
          type: dict
        gpu_utilization_mean_percent: {description: Mean NVML utilisation over this node's GPUs of this world size., type: float}
        gpu_utilization_min_percent: {description: Mean NVML utilisation of the least busy of those GPUs., type: float}
        gpu_memory_used_max_mib: {description: Highest NVML memory use of those GPUs (all processes)., type: int}
        gpu_temperature_max_c: {description: Highest temperature of those GPUs., type: int}
        gpu_power_mean_w: {description: Mean power draw per GPU., type: float}
        nvml_samples: {description: NVML samples per GPU inside the timed steps (0 when not sampled)., type: int}
        torch_memory_allocated_peak_mib: {description: Highest torch.cuda.max_memory_allocated over the ranks., type: int}
        loss_first: {description: Loss after the warm-up (rank 0)., type: float}
        loss_last: {description: Loss after the timed steps (rank 0)., type: float}
        per_gpu:
          description: Per rank on this node - rank, GPU, NVML index, utilisation, memory, temperature.
          type: list
          elements: dict
    world_sizes: {description: World sizes measured., type: list, elements: int, sample: [1, 2]}
    samples_per_second: {description: samples/s at the largest world size., type: float}
    scaling_efficiency_percent: {description: Scaling efficiency at the largest world size (null with one world size)., type: float}
    gpu_utilization_percent: {description: Mean utilisation of the least busy GPU at the largest world size., type: float}
    gpu_temperature_max_c: {description: Hottest GPU during any timed steps., type: int}
    elapsed_s: {description: "Seconds the module took (probe, launch, every world size).", type: float}
    config:
      description: The exact configuration that ran (model, batch, precision, DDP options, launcher, command), to reproduce the figures.
      type: dict
thresholds:
  description: The thresholds judged against (V(null) = not judged).
  returned: always
  type: dict
  sample: {"min_scaling_efficiency": 80.0, "min_gpu_utilization": 90.0, "max_temperature_c": 85.0, "min_throughput": null}
failures:
  description: One sentence per failed check.
  returned: always
  type: list
  elements: str
environment:
  description: Interpreter, torch, CUDA, cuDNN, NCCL and torchvision versions, hosts, GPUs (name, UUID, bus id) and how they are linked (NVML).
  returned: success
  type: dict
tables:
  description:
    - For the report - the scaling table (world size, samples/s, per-GPU samples/s, efficiency, step-time p50/p90,
      utilisation, memory) and the configuration.
  returned: success
  type: list
  elements: dict
plots:
  description: For the report - samples/s against world size, with the ideal linear line.
  returned: success
  type: list
  elements: dict
command:
  description: The launcher command (in check mode, the one it would run).
  returned: success
  type: list
  elements: str
  sample: ["/opt/vaultcube/venv/bin/python", "-m", "torch.distributed.run", "--standalone", "--nnodes", "1", "--nproc-per-node", "2", "..."]
worker_output:
  description: The last lines the launcher and workers wrote, when the run failed.
  returned: failure
  type: list
  elements: str
"""

import glob
import inspect
import json
import math
import os
import re
import shutil
import socket
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vaultcube.demobox.plugins.module_utils import _args, _ddp_worker, _nvml, _proc
from ansible_collections.vaultcube.demobox.plugins.module_utils import _result as R

BUILTIN_MODELS = _ddp_worker.BUILTIN_MODELS
ERROR_TAG = _ddp_worker.ERROR_TAG
PROGRESS_TAG = "[ddp_worker]"
PROBE_TIMEOUT = 180
SAMPLE_INTERVAL = 0.2
# NVML's utilisation covers the driver's last sample period, up to 1 s on current GPUs: readings
# in the first second of a timed window also cover the set-up before it, so they do not count.
UTIL_SETTLE_S = 1.0
MODEL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")
HOST_PORT = re.compile(r"^\[?[A-Za-z0-9_.:-]+\]?:\d{1,5}$")
# What torchrun's failure summary says about each failed rank.
TORCHRUN_FAILURE = re.compile(r"rank\s*:\s*(\d+).*?exitcode\s*:\s*(-?\d+)", re.S)
MEMORY_PATTERNS = tuple(_proc.OOM_PATTERNS) + ("can't allocate memory", "Cannot allocate memory")


class PlanError(Exception):
    """A reason, in one sentence, why the benchmark cannot run as asked."""


# --------------------------------------------------------------------------------------------
# parameters and plan


def validate(params):
    """One sentence about the first bad parameter, or None. Nothing runs before this passes."""
    for key in ("batch_size", "image_size", "steps", "timeout", "nnodes"):
        if params[key] < 1:
            return "%s must be 1 or more, got %d." % (key, params[key])
    if params["num_classes"] < 2:
        return "num_classes must be 2 or more, got %d." % params["num_classes"]
    if params["warmup"] < 0:
        return "warmup must be 0 or more, got %d." % params["warmup"]
    if params["bucket_cap_mb"] <= 0:
        return "bucket_cap_mb must be more than 0, got %s." % params["bucket_cap_mb"]
    if not MODEL_NAME.match(params["model"] or ""):
        return "model must be a model name such as resnet50 or small_cnn, got '%s'." % params["model"]
    sizes = params["world_sizes"]
    if sizes is not None:
        if not sizes:
            return "world_sizes must list at least one world size."
        if any(k < 1 for k in sizes):
            return "world_sizes must be 1 or more each, got %s." % sizes
        if len(set(sizes)) != len(sizes):
            return "world_sizes must not repeat a size, got %s." % sizes
    if params["nproc_per_node"] is not None and params["nproc_per_node"] < 1:
        return "nproc_per_node must be 1 or more, got %d." % params["nproc_per_node"]
    if params["device"] == "cpu":
        if params["backend"] == "nccl":
            return "backend nccl needs GPUs (device: cuda); a CPU run uses gloo (backend: auto or gloo)."
        if params["precision"] in ("tf32", "fp16"):
            return "precision %s needs device cuda; a CPU run supports fp32 and bf16." % params["precision"]
        if params["cuda_graphs"]:
            return "cuda_graphs needs device cuda."
        if params["input_pipeline"] == "host":
            return "input_pipeline host (a copy to the GPU every step) needs device cuda."
    if params["cuda_graphs"] and params["precision"] == "fp16":
        return "cuda_graphs cannot be used with precision fp16 (its gradient scaler reads the GPU every step); use bf16."
    if params["cuda_graphs"] and params["compile"]:
        return "cuda_graphs and compile cannot be combined; choose one."
    if not 0 <= params["node_rank"] < params["nnodes"]:
        return "node_rank must be between 0 and nnodes - 1 (%d), got %d." % (params["nnodes"] - 1, params["node_rank"])
    if not 1 <= params["master_port"] <= 65535:
        return "master_port must be a TCP port (1-65535), got %d." % params["master_port"]
    if params["rdzv_endpoint"] is not None and not HOST_PORT.match(params["rdzv_endpoint"]):
        return "rdzv_endpoint must look like host:port, got '%s'." % params["rdzv_endpoint"]
    if params["nnodes"] > 1 and not (params["rdzv_endpoint"] or params["master_addr"]):
        return "nnodes %d needs a rendezvous: set rdzv_endpoint (host:port of a c10d rendezvous) or master_addr." % params["nnodes"]
    if params["rdzv_endpoint"] and params["master_addr"]:
        return "Set either rdzv_endpoint (c10d rendezvous) or master_addr (static rendezvous), not both."
    for key in ("min_scaling_efficiency", "min_gpu_utilization"):
        if params[key] is not None and not 0 <= params[key] <= 100:
            return "%s is a percentage (0-100), got %s." % (key, params[key])
    if params["min_throughput"] is not None and params["min_throughput"] < 0:
        return "min_throughput must be 0 or more, got %s." % params["min_throughput"]
    return None


def torch_missing_sentence(interpreter, error):
    return ("PyTorch is not importable by %s (%s); install torch there (the ai_frameworks role's venv) or point "
            "worker_python at an interpreter that has it." % (interpreter, error))


def plan_run(params, info):
    """Resolve device, backend, world sizes and processes per node from the parameters and the probe."""
    interpreter = info.get("python")
    if not info.get("torch"):
        raise PlanError(torch_missing_sentence(interpreter, info.get("torch_error") or "no torch"))
    if not info.get("distributed_available"):
        raise PlanError("torch %s in %s was built without torch.distributed, which DDP needs." % (info["torch"], interpreter))
    device = params["device"]
    cuda_gpus = int(info.get("device_count") or 0)
    if device == "cuda" and not (info.get("cuda_available") and cuda_gpus):
        build = ("a CPU-only build" if not info.get("cuda_build") else "built for CUDA %s" % info["cuda_build"])
        raise PlanError("No GPU for device cuda: torch %s (%s) in %s sees no CUDA device; for a run without a GPU "
                        "set device: cpu (gloo)." % (info["torch"], build, interpreter))
    backend = params["backend"]
    if backend == "auto":
        backend = "nccl" if device == "cuda" else "gloo"
    if backend == "nccl" and not info.get("nccl_available"):
        raise PlanError("backend nccl is not available in torch %s in %s; use backend gloo." % (info["torch"], interpreter))
    if backend == "gloo" and not info.get("gloo_available"):
        raise PlanError("backend gloo is not available in torch %s in %s." % (info["torch"], interpreter))
    if params["model"] not in BUILTIN_MODELS and not info.get("torchvision"):
        raise PlanError("model %s comes from torchvision, which %s does not have; install torchvision there or use a "
                        "built-in model (%s)." % (params["model"], interpreter, ", ".join(BUILTIN_MODELS)))
    nnodes = params["nnodes"]
    per_node = params["nproc_per_node"]
    if params["world_sizes"]:
        sizes = sorted(params["world_sizes"])
        if per_node is None:
            per_node = int(math.ceil(sizes[-1] / float(nnodes)))
    else:
        if per_node is None:
            per_node = cuda_gpus if device == "cuda" else 2
        sizes = sorted({1, per_node * nnodes})
    world = per_node * nnodes
    if sizes[-1] > world:
        raise PlanError("world size %d is more than the %d processes launched (nproc_per_node %d x nnodes %d)." % (
            sizes[-1], world, per_node, nnodes))
    if device == "cuda" and per_node > cuda_gpus:
        raise PlanError("%d processes per node need %d GPUs on this node, but torch in %s sees %d." % (
            per_node, per_node, interpreter, cuda_gpus))
    cpu_threads = max(1, int(info.get("cpu_count") or 1) // per_node)
    return {"device": device, "backend": backend, "world_sizes": sizes, "nproc_per_node": per_node, "nnodes": nnodes,
            "world": world, "cpu_threads": cpu_threads}


def ddp_options(params):
    keys = ("gradient_as_bucket_view", "batched_grad_copy", "static_graph", "sync_buffers", "bucket_cap_mb")
    return {key: params[key] for key in keys}


def resolve_cuda_graphs(params, plan):
    """cuda_graphs unset: on where it applies (GPUs, not fp16, no compile); an explicit choice is kept."""
    if params["cuda_graphs"] is not None:
        return bool(params["cuda_graphs"]), "set"
    applies = plan["device"] == "cuda" and params["precision"] != "fp16" and not params["compile"]
    return applies, "default"


def worker_config(params, plan):
    cfg = {key: params[key] for key in ("model", "batch_size", "image_size", "num_classes", "precision", "channels_last",
                                        "cudnn_benchmark", "input_pipeline", "cuda_graphs", "compile", "steps", "warmup",
                                        "timeout")}
    cfg.update(ddp_options(params))
    cfg.update({"device": plan["device"], "backend": plan["backend"], "world_sizes": plan["world_sizes"],
                "cpu_threads": plan["cpu_threads"]})
    return cfg


def build_command(params, plan, interpreter, worker, config_path, out_dir):
    argv = [interpreter, "-m", "torch.distributed.run"]
    if plan["nnodes"] == 1 and not params["rdzv_endpoint"] and not params["master_addr"]:
        argv += ["--standalone", "--nnodes", "1"]
    elif params["rdzv_endpoint"]:
        argv += ["--nnodes", str(plan["nnodes"]), "--rdzv-backend", "c10d", "--rdzv-endpoint", params["rdzv_endpoint"],
                 "--rdzv-id", params["rdzv_id"]]
    else:
        argv += ["--nnodes", str(plan["nnodes"]), "--node-rank", str(params["node_rank"]),
                 "--master-addr", params["master_addr"], "--master-port", str(params["master_port"])]
    argv += ["--nproc-per-node", str(plan["nproc_per_node"]), "--max-restarts", "0",
             worker, "--config", config_path, "--out", out_dir]
    return argv


def child_env(params, plan):
    env = dict(os.environ)
    if plan["device"] == "cpu":
        env["OMP_NUM_THREADS"] = str(plan["cpu_threads"])
    else:
        env.setdefault("OMP_NUM_THREADS", "1")
    if plan["nnodes"] == 1:
        # The ranks' control group (gloo) stays on the loopback interface on a single node, even
        # where the host name does not resolve.
        env.setdefault("GLOO_SOCKET_IFNAME", "lo")
    if params["cuda_graphs"]:
        # Collectives captured in a CUDA graph must not be watched by NCCL's async error handler
        # (PyTorch's CUDA-graph notes for DDP); the module's own timeout still applies.
        env["TORCH_NCCL_ASYNC_ERROR_HANDLING"] = "0"
        env["NCCL_ASYNC_ERROR_HANDLING"] = "0"
    return env


# --------------------------------------------------------------------------------------------
# statistics and judging


def percentile(values, q):
    """Linear-interpolated percentile (q in 0-100) of a non-empty list."""
    ordered = sorted(values)
    if not ordered:
        return None
    pos = (len(ordered) - 1) * q / 100.0
    low = int(math.floor(pos))
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def step_statistics(per_rank_steps):
    """Step-time statistics over the steps, each step taking its slowest rank's time."""
    lists = [s for s in per_rank_steps if s]
    if not lists:
        return None
    count = min(len(s) for s in lists)
    steps = [max(s[i] for s in lists) for i in range(count)]
    mean = sum(steps) / count
    var = sum((v - mean) ** 2 for v in steps) / count
    return {"mean": round(mean, 3), "p50": round(percentile(steps, 50), 3), "p90": round(percentile(steps, 90), 3),
            "p99": round(percentile(steps, 99), 3), "min": round(min(steps), 3), "max": round(max(steps), 3),
            "stdev": round(math.sqrt(var), 3), "count": count}


def match_gpus(ranks, sampler_devices):
    """NVML index of each rank's GPU: by UUID, then by PCI bus id (None when neither matches)."""
    by_uuid = {d["uuid"]: d["index"] for d in sampler_devices if d.get("uuid")}
    by_bus = {(d.get("pci_bus_id") or "").lower()[-12:]: d["index"] for d in sampler_devices if d.get("pci_bus_id")}
    out = {}
    for r in ranks:
        index = by_uuid.get(r.get("uuid"))
        if index is None and r.get("pci_bus_id"):
            index = by_bus.get(r["pci_bus_id"].lower()[-12:])
        out[r["rank"]] = index
    return out


def analyse(result, params, sampler=None, host=None, node_rank=None):
    """Per world size: throughput, efficiency, step times, NVML figures for this node's GPUs."""
    batch = params["batch_size"]
    steps = params["steps"]
    devices = {d["rank"]: d for d in result.get("devices") or []}
    local = [d for d in devices.values() if (node_rank is None or d.get("node_rank") == node_rank)
             and (host is None or d.get("host") == host)]
    gpu_of = match_gpus(local, sampler.devices) if sampler is not None else {}
    runs = []
    base = None
    for run in sorted(result["runs"], key=lambda r: r["world_size"]):
        k = run["world_size"]
        ranks = run["ranks"]
        if len(ranks) != k:
            raise PlanError("the worker reported %d ranks for world size %d." % (len(ranks), k))
        wall = max(r["wall_s"] for r in ranks)
        if wall <= 0:
            raise PlanError("the worker reported a wall time of %s s for world size %d." % (wall, k))
        samples = k * batch * steps / wall
        if base is None:
            base = (k, samples)
        efficiency = (samples / k) / (base[1] / base[0]) * 100.0
        entry = {
            "world_size": k,
            "samples_per_second": round(samples, 1),
            "per_gpu_samples_per_second": round(samples / k, 1),
            "scaling_efficiency_percent": round(efficiency, 1),
            "wall_s": round(wall, 4),
            "step_time_ms": step_statistics([r["step_ms"] for r in ranks]),
            "loss_first": next((r["loss_first"] for r in ranks if r["rank"] == 0), None),
            "loss_last": next((r["loss_last"] for r in ranks if r["rank"] == 0), None),
            "torch_memory_allocated_peak_mib": max([r["memory_allocated_peak_mib"] for r in ranks
                                                    if r.get("memory_allocated_peak_mib") is not None] or [None]),
            "gpu_utilization_mean_percent": None,
            "gpu_utilization_min_percent": None,
            "gpu_memory_used_max_mib": None,
            "gpu_temperature_max_c": None,
            "gpu_power_mean_w": None,
            "nvml_samples": 0,
            "per_gpu": [],
        }
        mine = [r for r in ranks if r["rank"] in gpu_of]
        if sampler is not None and mine:
            start = min(r["window"][0] for r in mine)
            end = max(r["window"][1] for r in mine)
            indices = {gpu_of[r["rank"]] for r in mine if gpu_of[r["rank"]] is not None}
            stats = sampler.window(start, end, indices, util_settle=UTIL_SETTLE_S)
            for r in sorted(mine, key=lambda x: x["rank"]):
                index = gpu_of[r["rank"]]
                s = stats.get(index) or {}
                entry["per_gpu"].append({"rank": r["rank"], "host": r.get("host"), "nvml_index": index,
                                         "gpu": devices.get(r["rank"], {}).get("name"),
                                         "utilization_mean_percent": s.get("utilization_mean_percent"),
                                         "memory_used_max_mib": s.get("memory_used_max_mib"),
                                         "temperature_max_c": s.get("temperature_max_c"),
                                         "power_mean_w": s.get("power_mean_w"), "samples": s.get("samples", 0)})
            utils = [s["utilization_mean_percent"] for s in stats.values() if s["utilization_mean_percent"] is not None]
            if utils:
                entry["gpu_utilization_mean_percent"] = round(sum(utils) / len(utils), 1)
                entry["gpu_utilization_min_percent"] = min(utils)
            mems = [s["memory_used_max_mib"] for s in stats.values() if s["memory_used_max_mib"] is not None]
            temps = [s["temperature_max_c"] for s in stats.values() if s["temperature_max_c"] is not None]
            powers = [s["power_mean_w"] for s in stats.values() if s["power_mean_w"] is not None]
            entry["gpu_memory_used_max_mib"] = max(mems) if mems else None
            entry["gpu_temperature_max_c"] = max(temps) if temps else None
            entry["gpu_power_mean_w"] = round(sum(powers) / len(powers), 1) if powers else None
            entry["nvml_samples"] = min([s["samples"] for s in stats.values()] or [0])
        runs.append(entry)
    return runs


def judge(runs, params, plan, nvml_reason=None):
    last = runs[-1]
    k = last["world_size"]
    checks = [R.judge_min("ddp_benchmark.throughput", "Training throughput at world size %d" % k,
                          last["samples_per_second"], params["min_throughput"], "samples/s")]
    if len(runs) > 1:
        checks.append(R.judge_min("ddp_benchmark.scaling_efficiency", "Scaling efficiency from world size %d to %d" % (
            runs[0]["world_size"], k), last["scaling_efficiency_percent"], params["min_scaling_efficiency"], "%"))
    else:
        checks.append(R.skipped("ddp_benchmark.scaling_efficiency", "Scaling efficiency needs two world sizes; only world "
                                "size %d was measured (this node has %d GPU(s) for it)." % (k, plan["nproc_per_node"])))
    if plan["device"] == "cpu":
        why = "This was a CPU run (device: cpu), so there is no GPU %s to report."
        checks.append(R.skipped("ddp_benchmark.gpu_utilization", why % "utilisation"))
        checks.append(R.skipped("ddp_benchmark.gpu_temperature", why % "temperature"))
        return checks
    util = R.judge_min("ddp_benchmark.gpu_utilization", "Mean NVML utilisation of the least busy GPU at world size %d" % k,
                       last["gpu_utilization_min_percent"], params["min_gpu_utilization"], "%")
    temps = [r["gpu_temperature_max_c"] for r in runs if r["gpu_temperature_max_c"] is not None]
    temp = R.judge_max("ddp_benchmark.gpu_temperature", "Hottest GPU temperature during the timed steps",
                       max(temps) if temps else None, params["max_temperature_c"], "C")
    for check in (util, temp):
        if check["status"] == R.SKIPPED:
            check["message"] = check["message"].rstrip(".") + ": %s." % (
                nvml_reason or "no NVML sample fell inside the timed steps (raise steps for a longer window)")
    checks += [util, temp]
    return checks


def _fmt(value, digits=1):
    if value is None:
        return None
    return round(value, digits)


def report_tables(runs, config, plan):
    unit = "GPU" if plan["device"] == "cuda" else "process"
    rows = []
    for r in runs:
        st = r["step_time_ms"] or {}
        rows.append([r["world_size"], _fmt(r["samples_per_second"]), _fmt(r["per_gpu_samples_per_second"]),
                     _fmt(r["scaling_efficiency_percent"]), _fmt(st.get("p50"), 2), _fmt(st.get("p90"), 2),
                     r["gpu_utilization_mean_percent"], r["gpu_memory_used_max_mib"]])
    title = "Scaling: %s, batch %d per %s, %s, %s" % (config["model"], config["batch_size"], unit, config["precision"],
                                                      "%s on %s" % (config["backend"], config["device"]))
    scaling = {"title": title,
               "columns": ["world size", "samples/s", "samples/s per %s" % unit, "scaling efficiency %",
                           "step time p50 ms", "step time p90 ms", "GPU utilisation %", "GPU memory peak MiB"],
               "rows": rows}
    keys = ("model", "image_size", "num_classes", "batch_size", "precision", "channels_last", "cudnn_benchmark",
            "input_pipeline", "gradient_as_bucket_view", "batched_grad_copy", "static_graph", "sync_buffers",
            "bucket_cap_mb", "cuda_graphs", "cuda_graphs_choice", "compile", "optimizer", "warmup", "steps", "world_sizes", "nproc_per_node",
            "nnodes", "device", "backend", "launcher", "torch", "cuda", "nccl", "python_interpreter")
    configuration = {"title": "Configuration", "columns": ["setting", "value"],
                     "rows": [[key, config.get(key)] for key in keys if key in config]}
    return [scaling, configuration]


def report_plots(runs, plan):
    unit = "GPUs" if plan["device"] == "cuda" else "processes"
    k0 = runs[0]["world_size"]
    per = runs[0]["samples_per_second"] / k0
    return [{
        "title": "Training throughput vs world size",
        "kind": "line",
        "x_label": "world size (%s)" % unit,
        "y_label": "samples/s",
        "series": {
            "measured": [[r["world_size"], r["samples_per_second"]] for r in runs],
            "ideal (linear from world size %d)" % k0: [[r["world_size"], round(per * r["world_size"], 1)] for r in runs],
        },
    }]


# --------------------------------------------------------------------------------------------
# running


def run_probe(interpreter, worker, workdir):
    """Ask the interpreter what it offers (torch, CUDA, NCCL, torchvision). Returns a dict."""
    run = _proc.ChildRun([interpreter, worker, "--probe"], timeout=PROBE_TIMEOUT, grace=5,
                         workdir=os.path.join(workdir, "probe"))
    os.makedirs(run.workdir, exist_ok=True)
    rc = run.start().wait(poll_interval=0.05)
    lines = [line for line in run.stdout().splitlines() if line.startswith("{")]
    if rc != 0 or not lines:
        tail = run.stderr_tail(3) or run.stdout_tail(3)
        raise PlanError("%s could not run the worker's probe: it %s%s." % (
            interpreter, _proc.describe_exit(rc, run.timed_out, PROBE_TIMEOUT), (" (%s)" % " / ".join(tail)) if tail else ""))
    info = json.loads(lines[-1])
    info["python"] = interpreter
    return info


def read_errors(out_dir):
    errors = []
    for path in glob.glob(os.path.join(out_dir, "error-rank*.json")):
        try:
            with open(path) as handle:
                errors.append(json.load(handle))
        except (OSError, ValueError):
            continue
    return sorted(errors, key=lambda e: e.get("time") or 0)


def clean_tail(lines):
    """The launcher's and workers' last lines without torchrun's banner decoration."""
    out = []
    for line in lines:
        text = line.strip()
        if not text or set(text) <= set("=-*^~") or text.startswith("To enable traceback see"):
            continue
        out.append(text)
    return out


def failure_message(run, rc, out_dir, params, plan):
    """One sentence (with the worker's last error lines) for a launch that did not succeed."""
    errors = read_errors(out_dir)
    tail = clean_tail(run.stderr_tail(40)) or clean_tail(run.stdout_tail(10))
    error_lines = []
    for err in errors:
        error_lines += err.get("lines") or []
    leftover = ""
    if run.leftover:
        leftover = " %d process(es) could not be stopped: %s." % (len(run.leftover), ", ".join(str(p) for p in run.leftover))
    # A worker that crashed or hung while replaying a captured step: say how to run it eagerly.
    graph = " The training step ran as a CUDA graph (cuda_graphs); cuda_graphs: false runs it eagerly." if params["cuda_graphs"] else ""
    if run.timed_out:
        progress = [line for line in run.stdout_tail(20) if line.startswith(PROGRESS_TAG)][-1:]
        last = (progress[0][len(PROGRESS_TAG):].strip() if progress else "the workers had not started training")
        return ("The DDP benchmark did not finish within its timeout of %ds and was stopped with every process it "
                "started (last progress: %s).%s%s" % (params["timeout"], last, graph, leftover))
    if any(p in "\n".join(error_lines + tail) for p in MEMORY_PATTERNS):
        first = errors[0] if errors else None
        what = ("rank %s: %s" % (first["rank"], first["sentence"])) if first else " / ".join(
            [line for line in tail if any(p in line for p in MEMORY_PATTERNS)][-1:])
        where = "GPU" if plan["device"] == "cuda" else "host"
        return ("The DDP benchmark ran out of %s memory at batch size %d per %s (%s); lower batch_size or image_size.%s" % (
            where, params["batch_size"], "GPU" if plan["device"] == "cuda" else "process", _short(what), leftover))
    if errors:
        first = errors[0]
        if first.get("known"):
            return "ddp_benchmark could not run: %s.%s" % (first["sentence"].rstrip("."), leftover)
        context = [line.strip() for line in first.get("lines") or [] if line.strip() and line.strip() != first["sentence"]][-3:]
        return ("The DDP training worker failed on rank %s (%s): %s%s%s" % (
            first["rank"], first.get("host"), _short(first["sentence"]).rstrip("."),
            (". Last error lines: %s" % " | ".join(context)) if context else "", ".") + graph + leftover)
    killed = [(int(r), int(c)) for r, c in TORCHRUN_FAILURE.findall("\n".join(run.stderr_tail(80)))]
    signalled = [(r, c) for r, c in killed if c < 0]
    if signalled:
        r, c = signalled[0]
        return "The DDP training worker of rank %d %s.%s%s" % (r, _proc.describe_exit(c), graph, leftover)
    last = tail[-3:]
    return "The DDP benchmark launcher %s%s.%s" % (
        _proc.describe_exit(rc), (": %s" % " / ".join(last)) if last else "", leftover)


def _short(text, limit=400):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def check_mode_result(argv, config, plan, params):
    cmd = " ".join(argv)
    check = R.skipped("ddp_benchmark", "Check mode: would run %s (world sizes %s, %s on %s)." % (
        cmd, ", ".join(str(k) for k in plan["world_sizes"]), plan["backend"], plan["device"]))
    result = R.build_result([check], {"config": config}, thresholds(params), {}, msg=check["message"], command=argv)
    return result


def thresholds(params):
    return {key: params[key] for key in ("min_scaling_efficiency", "min_gpu_utilization", "max_temperature_c",
                                         "min_throughput")}


def effective_config(params, plan, cfg, info, versions, interpreter, argv):
    config = dict(cfg)
    config.update({
        "optimizer": "SGD(lr=%(lr)s, momentum=%(momentum)s, weight_decay=%(weight_decay)s), zero_grad(set_to_none=True)"
                     % _ddp_worker.SGD_SETTINGS,
        "nproc_per_node": plan["nproc_per_node"], "nnodes": plan["nnodes"], "launcher": "torch.distributed.run",
        "torch": versions.get("torch") or info.get("torch"), "cuda": versions.get("cuda"), "nccl": versions.get("nccl"),
        "python_interpreter": interpreter, "command": " ".join(argv),
    })
    if cfg.get("batched_grad_copy") and versions.get("ddp_batched_grad_copy") is False:
        config["batched_grad_copy"] = "unavailable in torch %s (ignored)" % versions.get("torch")
    config["cuda_graphs_choice"] = params.get("cuda_graphs_choice", "set")
    config.pop("timeout", None)
    if plan["device"] == "cuda":
        config.pop("cpu_threads", None)
    return config


def execute(module, params):
    """Plan, launch, sample, analyse. Returns the result dict; fails the module on errors."""
    started = time.time()
    interpreter = _args.worker_python(module)
    workdir = tempfile.mkdtemp(prefix="vaultcube-ddp-")
    sampler = None
    try:
        worker = _proc.write_bundle(workdir, [], inspect.getsource(_ddp_worker), "ddp_worker.py")
        out_dir = os.path.join(workdir, "out")
        os.makedirs(out_dir)
        try:
            info = run_probe(interpreter, worker, workdir)
            plan = plan_run(params, info)
        except PlanError as exc:
            module.fail_json(msg=str(exc))
        params["cuda_graphs"], params["cuda_graphs_choice"] = resolve_cuda_graphs(params, plan)
        cfg = worker_config(params, plan)
        config_path = os.path.join(workdir, "config.json")
        with open(config_path, "w") as handle:
            json.dump(cfg, handle, indent=1)
        argv = build_command(params, plan, interpreter, worker, config_path, out_dir)
        if module.check_mode:
            return check_mode_result(argv, effective_config(params, plan, cfg, info, {}, interpreter, argv), plan, params)

        nvml_reason = None
        if plan["device"] == "cuda":
            nvml, nvml_reason = _nvml.load_binding(params["binding_search_paths"])
            sampler = _nvml.TelemetrySampler(nvml, SAMPLE_INTERVAL)
            nvml_reason = sampler.open() or nvml_reason
            if nvml_reason:
                nvml_reason = "NVML could not be read (%s)" % nvml_reason
        run = _proc.ChildRun(argv, env=child_env(params, plan), timeout=params["timeout"], grace=15,
                             workdir=os.path.join(workdir, "launch"))
        os.makedirs(run.workdir)
        run.start()
        rc = run.wait(poll_interval=0.05, on_tick=sampler.tick if sampler is not None else None)
        results = sorted(glob.glob(os.path.join(out_dir, "result-node*.json")))
        if rc != 0 or not results or run.leftover:
            module.fail_json(msg=failure_message(run, rc, out_dir, params, plan), command=argv,
                             worker_output=clean_tail(run.stderr_tail(30)))
        with open(results[0]) as handle:
            result = json.load(handle)
        try:
            runs = analyse(result, params, sampler, result.get("host"), result.get("node_rank"))
        except PlanError as exc:
            module.fail_json(msg="The DDP benchmark's result could not be read: %s" % exc, command=argv)
        versions = result.get("versions") or {}
        config = effective_config(params, plan, cfg, info, versions, interpreter, argv)
        checks = judge(runs, params, plan, nvml_reason)
        last = runs[-1]
        temps = [r["gpu_temperature_max_c"] for r in runs if r["gpu_temperature_max_c"] is not None]
        metrics = {
            "runs": runs,
            "world_sizes": [r["world_size"] for r in runs],
            "samples_per_second": last["samples_per_second"],
            "scaling_efficiency_percent": last["scaling_efficiency_percent"] if len(runs) > 1 else None,
            "gpu_utilization_percent": last["gpu_utilization_min_percent"],
            "gpu_temperature_max_c": max(temps) if temps else None,
            "elapsed_s": round(time.time() - started, 2),
            "config": config,
        }
        devices = result.get("devices") or []
        environment = {
            "python_interpreter": interpreter,
            "python": versions.get("python") or info.get("python_version"),
            "torch": versions.get("torch"),
            "cuda": versions.get("cuda"),
            "cudnn": versions.get("cudnn"),
            "nccl": versions.get("nccl"),
            "torchvision": versions.get("torchvision") or info.get("torchvision"),
            "hosts": sorted({d.get("host") for d in devices if d.get("host")}),
            "module_host": socket.gethostname(),
            "gpu_names": sorted({d["name"] for d in devices if d.get("name")}) if plan["device"] == "cuda" else [],
            "devices": devices,
            "interconnect": sampler.interconnect() if sampler is not None else None,
            "nvml": nvml_reason or ("sampled every %.1f s" % SAMPLE_INTERVAL if sampler is not None else "not used (CPU run)"),
        }
        base = runs[0]
        if len(runs) > 1:
            msg = "%s trained at %s samples/s on world size %d and %s on %d (%s%% scaling efficiency)." % (
                config["model"], _fmt(base["samples_per_second"]), base["world_size"], _fmt(last["samples_per_second"]),
                last["world_size"], _fmt(last["scaling_efficiency_percent"]))
        else:
            msg = "%s trained at %s samples/s on world size %d." % (
                config["model"], _fmt(last["samples_per_second"]), last["world_size"])
        out = R.build_result(checks, metrics, thresholds(params), environment, msg=None,
                             tables=report_tables(runs, config, plan), plots=report_plots(runs, plan), command=argv)
        if out["failures"]:
            out["msg"] = " ".join(out["failures"])
        else:
            out["msg"] = msg
        return out
    finally:
        if sampler is not None:
            sampler.close()
        shutil.rmtree(workdir, ignore_errors=True)


def argument_spec():
    spec = dict(
        model=dict(type="str", default="resnet50"),
        batch_size=dict(type="int", default=32),
        image_size=dict(type="int", default=224),
        num_classes=dict(type="int", default=1000),
        precision=dict(type="str", default="bf16", choices=["fp32", "tf32", "bf16", "fp16"]),
        channels_last=dict(type="bool", default=True),
        steps=dict(type="int", default=500),
        warmup=dict(type="int", default=20),
        world_sizes=dict(type="list", elements="int"),
        nproc_per_node=dict(type="int"),
        device=dict(type="str", default="cuda", choices=["cuda", "cpu"]),
        backend=dict(type="str", default="auto", choices=["auto", "nccl", "gloo"]),
        gradient_as_bucket_view=dict(type="bool", default=True),
        batched_grad_copy=dict(type="bool", default=True),
        static_graph=dict(type="bool", default=False),
        sync_buffers=dict(type="bool", default=False),
        bucket_cap_mb=dict(type="float", default=25),
        cudnn_benchmark=dict(type="bool", default=True),
        input_pipeline=dict(type="str", default="device", choices=["device", "host"]),
        cuda_graphs=dict(type="bool"),
        compile=dict(type="bool", default=False),
        nnodes=dict(type="int", default=1),
        node_rank=dict(type="int", default=0),
        master_addr=dict(type="str"),
        master_port=dict(type="int", default=29500),
        rdzv_endpoint=dict(type="str"),
        rdzv_id=dict(type="str", default="vaultcube-ddp-benchmark"),
        min_scaling_efficiency=dict(type="float"),
        min_gpu_utilization=dict(type="float"),
        max_temperature_c=dict(type="float"),
        min_throughput=dict(type="float"),
    )
    spec.update(_args.gpu_argspec(timeout=900))
    return spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    error = validate(params)
    if error:
        module.fail_json(msg=error)
    result = execute(module, params)
    R.exit_with(module, result, params["fail_on_threshold"])


if __name__ == "__main__":
    main()
