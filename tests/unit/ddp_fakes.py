# -*- coding: utf-8 -*-
"""What ddp_benchmark's tests share: the probe's answer on a CPU and on a two-GPU host, the
module's parameters with its defaults, and two fake H200s for NVML.

``DEFAULTS`` is the module's argument spec's defaults written out, so that the tests of
plugins/module_utils/_ddp.py need not import the module; tests/unit/plugins/modules/
test_ddp_benchmark.py checks that it still matches the module."""

from fake_nvml import FakeNVML, h200

CPU_PROBE = {"python": "/ai/bin/python", "python_version": "3.11.7", "hostname": "h", "cpu_count": 4,
             "torch": "2.13.0+cpu", "torch_error": None, "cuda_build": None, "cuda_available": False, "device_count": 0,
             "distributed_available": True, "nccl_available": False, "gloo_available": True, "torchvision": None}
GPU_PROBE = dict(CPU_PROBE, torch="2.11.0+cu130", cuda_build="13.0", cuda_available=True, device_count=2,
                 nccl_available=True, torchvision="0.26.0", cpu_count=16)

DEFAULTS = {
    "model": "resnet50", "batch_size": 32, "image_size": 224, "num_classes": 1000, "precision": "bf16",
    "channels_last": True, "steps": 500, "warmup": 20, "world_sizes": None, "nproc_per_node": None, "device": "cuda",
    "backend": "auto", "gradient_as_bucket_view": True, "batched_grad_copy": True, "static_graph": False,
    "sync_buffers": False, "bucket_cap_mb": 25, "cudnn_benchmark": True, "input_pipeline": "device", "cuda_graphs": None,
    "compile": False, "nnodes": 1, "node_rank": 0, "master_addr": None, "master_port": 29500, "rdzv_endpoint": None,
    "rdzv_id": "vaultcube-ddp-benchmark", "min_scaling_efficiency": None, "min_gpu_utilization": None,
    "max_temperature_c": None, "min_throughput": None,
    "binding_search_paths": ["/opt/vaultcube/venv/lib/python3*/site-packages"], "fail_on_threshold": True,
    "worker_python": None, "timeout": 900,
}


def params(**over):
    """The module's defaults, as AnsibleModule would fill them in, with overrides."""
    p = {key: (list(value) if isinstance(value, list) else value) for key, value in DEFAULTS.items()}
    p.update(over)
    return p


def two_h200s(util=(97, 60)):
    return FakeNVML([h200(uuid="GPU-H200-0", util=util, temperature=61, power=650000),
                     h200(uuid="GPU-H200-1", bus_id="00000000:02:00.0", util=util, temperature=64, power=640000)])
