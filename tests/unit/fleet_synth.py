# -*- coding: utf-8 -*-
"""Synthetic validation reports for the fleet report's tests and its aggregation benchmark
(scripts/fleet_bench.py): each host's report is built by ``_report.build`` from module results
made with ``_result``'s own check builders, with the shape of a 4-GPU box's real report
(gpu_facts, frameworks, gpu_bandwidth, ddp_benchmark, stress_gpu per GPU, vllm_bench).
The figures are made up: these reports never stand for a measurement."""

import json
import os
import random

from ansible_collections.vaultcube.demobox.plugins.module_utils import _report
from ansible_collections.vaultcube.demobox.plugins.module_utils import _result as R


def host_report(host, seed=0, gpus=4, throughput=3300.0, torch="2.11.0+cu130", driver="580.159.04",
                generated_at="2026-12-04T06:00:00+00:00", jitter=0.02):
    """One host's validation report document; ``throughput`` is its DDP samples/s before jitter."""
    rnd = random.Random("%s-%d" % (host, seed))

    def j(value):
        return round(value * (1 + rnd.uniform(-jitter, jitter)), 3)

    env = {"driver_version": driver, "cuda_driver_version": "13.0"}
    gpu_checks = [R.judge_equal("gpu_facts.count", "GPU count", gpus, gpus),
                  R.judge_min("gpu_facts.driver_version", "driver", driver, "570"),
                  R.judge_max("gpu_facts.temperature", "idle temperature", int(j(38)), 60, unit="C")]
    frameworks = [R.make_check("frameworks.torch.import", "passed", value=torch, message="torch imports")]
    bandwidth = [R.judge_min("gpu_bandwidth.all_reduce.busbw", "all_reduce bus bandwidth", j(40.0), None, unit="GB/s")]
    ddp = [R.make_check("ddp_benchmark.throughput", "info", value=j(throughput), unit="samples/s", message="throughput"),
           R.judge_min("ddp_benchmark.scaling_efficiency", "scaling", j(92.0), 80.0, unit="%"),
           R.judge_max("ddp_benchmark.gpu_temperature", "temperature", int(j(60)), 85.0, unit="C")]
    stress = []
    for gpu in range(gpus):
        stress.append(R.make_check("stress_gpu.gpu%d.tflops" % gpu, "info", value=j(650.0), unit="TFLOP/s", message="tflops"))
        stress.append(R.judge_max("stress_gpu.gpu%d.temperature" % gpu, "temperature", int(j(66)), 85.0, unit="C"))
        stress.append(R.judge_max("stress_gpu.gpu%d.mismatches" % gpu, "mismatches", 0, 0))
    vllm = [R.judge_min("vllm_bench.output_tokens_per_s", "output tokens/s", j(2400.0), 10.0, unit="tokens/s")]
    entries = [
        {"module": "gpu_facts", "result": R.build_result(gpu_checks, {"gpu_count": gpus}, {}, env)},
        {"module": "frameworks", "result": R.build_result(frameworks, {}, {}, dict(env, frameworks={"torch": {"version": torch}}))},
        {"module": "gpu_bandwidth", "result": R.build_result(bandwidth, {}, {}, {"torch": torch})},
        {"module": "ddp_benchmark", "result": R.build_result(ddp, {}, {}, {"torch": torch, "cuda": "13.0"})},
        {"module": "stress_gpu", "result": R.build_result(stress, {}, {}, dict(env, torch=torch))},
        {"module": "vllm_bench", "result": R.build_result(vllm, {}, {}, {"vllm": "0.25.0"})},
    ]
    return _report.build(entries, host, generated_at, {"os": "Ubuntu 24.04", "kernel": "6.8.0-90-generic"})


def fleet(count, odd=None, seed=0, **kwargs):
    """``count`` host entries for ``_fleet.aggregate`` (box001...); ``odd`` maps a host to
    ``host_report`` keyword arguments that make it different."""
    entries = []
    for index in range(count):
        host = "box%03d" % (index + 1)
        args = dict(kwargs)
        args.update((odd or {}).get(host) or {})
        entries.append({"host": host, "status": "ok", "report": host_report(host, seed=seed, **args),
                        "extra_versions": {"image": "1.0.0", "collection": "0.2.0"}})
    return entries


def write_reports(root, entries):
    """Each entry's report as <root>/<host>/validation-report.json; host_info for fleet_report."""
    info = {}
    for entry in entries:
        folder = os.path.join(root, entry["host"])
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, "validation-report.json")
        with open(path, "w") as handle:
            json.dump(entry["report"], handle)
        info[entry["host"]] = {"status": "ok", "report": path, "image_version": "1.0.0"}
    return info
