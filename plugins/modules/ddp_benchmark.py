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
  - vaultcube.demobox.validation.nvml
  - vaultcube.demobox.validation.worker
  - vaultcube.demobox.validation.action_groups
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

import inspect
import json
import os
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vaultcube.demobox.plugins.module_utils import _args, _ddp_worker, _proc
from ansible_collections.vaultcube.demobox.plugins.module_utils import _ddp as D
from ansible_collections.vaultcube.demobox.plugins.module_utils import _result as R
from ansible_collections.vaultcube.demobox.plugins.module_utils._util import PlanError


def execute(module, params):
    """Plan, launch, sample, analyse (plugins/module_utils/_ddp.py). Returns the result dict; fails
    the module on errors."""
    started = time.time()
    interpreter = _args.worker_python(module)
    sampler = None
    with _proc.work_dir("ddp") as workdir:
        try:
            worker = _proc.write_bundle(workdir, [], inspect.getsource(_ddp_worker), "ddp_worker.py")
            out_dir = os.path.join(workdir, "out")
            os.makedirs(out_dir)
            try:
                info = D.run_probe(interpreter, worker, workdir)
                plan = D.plan_run(params, info)
            except PlanError as exc:
                module.fail_json(msg=str(exc))
            run_params = D.settings(params, plan)
            cfg = D.worker_config(run_params, plan)
            config_path = os.path.join(workdir, "config.json")
            with open(config_path, "w") as handle:
                json.dump(cfg, handle, indent=1)
            argv = D.build_command(run_params, plan, interpreter, worker, config_path, out_dir)
            if module.check_mode:
                return D.check_mode_result(argv, D.effective_config(run_params, plan, cfg, info, {}, interpreter, argv),
                                           plan, run_params)

            sampler, nvml_reason = D.open_sampler(run_params, plan)
            run = _proc.ChildRun(argv, env=D.child_env(run_params, plan), timeout=run_params["timeout"], grace=15,
                                 workdir=os.path.join(workdir, "launch"))
            os.makedirs(run.workdir)
            run.start()
            rc = run.wait(poll_interval=0.05, on_tick=sampler.tick if sampler is not None else None)
            result = D.read_result(out_dir) if rc == 0 and not run.leftover else None
            if result is None:
                module.fail_json(msg=D.failure_message(run, rc, out_dir, run_params, plan), command=argv,
                                 worker_output=D.clean_tail(run.stderr_tail(30)))
            try:
                runs = D.analyse(result, run_params, sampler, result.get("host"), result.get("node_rank"))
            except PlanError as exc:
                module.fail_json(msg="The DDP benchmark's result could not be read: %s" % exc, command=argv)
            return D.build_result(run_params, plan, info, cfg, result, runs, sampler, nvml_reason, interpreter, argv,
                                  time.time() - started)
        finally:
            if sampler is not None:
                sampler.close()


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
    spec.update(_args.common_argspec(timeout=900))
    return spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    error = D.validate(params)
    if error:
        module.fail_json(msg=error)
    result = execute(module, params)
    R.exit_with(module, result, params["fail_on_threshold"])


if __name__ == "__main__":
    main()
