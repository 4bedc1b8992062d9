# -*- coding: utf-8 -*-
"""The stress_gpu module: parameters, no-GPU and check-mode paths with NVML replaced by fake_nvml,
startup failures for real (an interpreter without torch), and one whole run on the CPU test path."""
import csv
import json
import os
import sys

import pytest
from ai_python import AI_PYTHON, needs_torch
from ansible.module_utils.testing import patch_module_args
from deprecation import alias_deprecated, deprecations, forget_deprecations
from fake_nvml import FakeNVML, h200
from stress_records import make_run

from ansible_collections.vaultcube.demobox.plugins.module_utils import _nvml
from ansible_collections.vaultcube.demobox.plugins.modules import stress_gpu


def run_module(args, capsys, monkeypatch, fake=None, reason=None):
    monkeypatch.setattr(_nvml, "load_binding", lambda paths: (fake, reason))
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            stress_gpu.main()
    return exc.value.code, json.loads(capsys.readouterr().out)


def two_h200s():
    return FakeNVML([h200(), h200(uuid="GPU-H200-1", bus_id="00000000:02:00.0")])


def test_no_gpu_fails_with_one_sentence(capsys, monkeypatch):
    code, out = run_module({"worker_python": sys.executable}, capsys, monkeypatch, FakeNVML([], init_error=12))
    assert code == 1 and out["changed"] is False
    assert out["msg"] == ("No NVIDIA GPU to stress on this host: the NVML library (libnvidia-ml.so.1) was not found: "
                          "no NVIDIA driver is installed.")


def test_no_nvml_binding_fails_with_the_reason(capsys, monkeypatch):
    code, out = run_module({"worker_python": sys.executable}, capsys, monkeypatch, None,
                           reason="the NVML Python binding nvidia-ml-py (import pynvml) is not installed for /usr/bin/python3")
    assert code == 1
    assert out["msg"] == ("No NVIDIA GPU to stress on this host: the NVML Python binding nvidia-ml-py (import pynvml) "
                          "is not installed for /usr/bin/python3.")


def test_check_mode_says_what_would_run_and_runs_nothing(capsys, monkeypatch, tmp_path):
    csv_path = str(tmp_path / "sub" / "stress.csv")
    args = {"_ansible_check_mode": True, "duration": 86400, "csv_path": csv_path, "worker_python": sys.executable}
    code, out = run_module(args, capsys, monkeypatch, two_h200s())
    assert code == 0 and out["changed"] is False and out["passed"] is None
    assert [c["status"] for c in out["checks"]] == ["skipped"]
    assert out["msg"] == (
        "Check mode: would run bf16 8192x8192 matrix multiplications on GPUs 0, 1 (NVIDIA H200) for 86400 s "
        "(memory fraction 0.9, a result check every 16 products), NVML sampled every 5.0 s into %s, under %s."
        % (csv_path, sys.executable))
    assert out["checks"][0]["message"] == out["msg"]
    assert out["thresholds"]["max_temperature_c"] == 85.0 and out["thresholds"]["max_mismatches"] == 0
    assert not os.path.exists(os.path.dirname(csv_path))


def test_a_gpu_index_that_does_not_exist(capsys, monkeypatch):
    code, out = run_module({"gpus": [0, 3], "worker_python": sys.executable}, capsys, monkeypatch, two_h200s())
    assert code == 1 and out["msg"] == "GPU 3 was asked for, but this host has 2 GPU(s), indices 0, 1."


@pytest.mark.parametrize("args,msg", [
    ({"duration": 0}, "duration must be at least 1 second, got 0."),
    ({"sample_interval": 0.1}, "sample_interval must be at least 0.5 seconds, got 0.1."),
    ({"memory_fraction": 1.2}, "memory_fraction must be above 0 and at most 0.98, got 1.2."),
    ({"matrix_size": 8}, "matrix_size must be at least 16, got 8."),
    ({"device": "cpu", "matrix_size": 8192}, "matrix_size must be at most 2048 on the CPU test path, got 8192."),
    ({"check_every": 0}, "check_every must be at least 1, got 0."),
    ({"tolerance": -1.0}, "tolerance must be 0 or more, got -1.0."),
    ({"startup_timeout": 0}, "startup_timeout must be at least 1 second, got 0."),
    ({"gpus": []}, "gpus must name at least one GPU index when it is set."),
    ({"gpus": [0, 0]}, "gpus must be distinct GPU indices of 0 or more, got [0, 0]."),
    ({"max_mismatches": -1}, "max_mismatches must be 0 or more, got -1."),
    ({"dtype": "int8"}, "value of dtype must be one of: bf16, fp16, fp32, fp64, tf32, got: int8"),
])
def test_bad_parameters_are_refused_with_one_sentence(capsys, monkeypatch, args, msg):
    code, out = run_module(args, capsys, monkeypatch, two_h200s())
    assert code == 1 and msg in out["msg"]


def test_a_missing_worker_python(capsys, monkeypatch, tmp_path):
    code, out = run_module({"worker_python": str(tmp_path / "nope")}, capsys, monkeypatch, two_h200s())
    assert code == 1 and out["msg"].startswith("worker_python %s is not an executable file: " % (tmp_path / "nope"))


def test_an_unwritable_csv_path(capsys, monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    args = {"device": "cpu", "matrix_size": 64, "worker_python": sys.executable, "csv_path": str(blocker / "stress.csv")}
    code, out = run_module(args, capsys, monkeypatch)
    assert code == 1 and out["msg"].startswith("Cannot write the telemetry CSV %s: " % (blocker / "stress.csv"))


def test_workers_that_cannot_import_torch(capsys, monkeypatch, tmp_path):
    args = {"device": "cpu", "gpus": [0, 1], "matrix_size": 64, "duration": 5, "worker_python": sys.executable,
            "csv_path": str(tmp_path / "stress.csv")}
    code, out = run_module(args, capsys, monkeypatch)
    assert code == 1 and out["changed"] is False
    assert out["msg"] == ("The stress workers could not start on CPU workers 0, 1: ModuleNotFoundError: No module named "
                          "'torch' (worker python %s)." % sys.executable)


def test_an_orchestrator_that_cannot_start(capsys, monkeypatch, tmp_path):
    args = {"device": "cpu", "matrix_size": 64, "duration": 5, "worker_python": "/bin/false",
            "csv_path": str(tmp_path / "stress.csv")}
    code, out = run_module(args, capsys, monkeypatch)
    assert code == 1 and out["msg"] == "The stress orchestrator could not start under /bin/false: it exited with status 1."


def test_startup_failure_sentence_for_oom():
    records = [{"type": "worker_exit", "gpu": 1, "state": "startup_failed",
                "message": "OutOfMemoryError: CUDA out of memory. Tried to allocate 120.00 GiB"},
               {"type": "worker_exit", "gpu": 0, "state": "stopped", "message": "stopped"}]
    params = {"device": "cuda", "memory_fraction": 0.9, "matrix_size": 8192}
    assert stress_gpu.startup_failure(records, "/venv/bin/python", params) == (
        "The stress workers could not start on GPU 1: OutOfMemoryError: CUDA out of memory. Tried to allocate "
        "120.00 GiB (worker python /venv/bin/python); lower memory_fraction (now 0.9) or matrix_size (now 8192).")
    assert stress_gpu.startup_failure([], "/p", params) is None


def params_for_build(**over):
    params = {"max_temperature_c": 85.0, "forbidden_clocks_event_reasons": ["hw_thermal_slowdown"],
              "max_mismatches": 0, "max_xid_errors": 0, "max_ecc_uncorrected": 0, "min_tflops": 650.0,
              "min_gpu_utilization": 90.0, "device": "cuda"}
    params.update(over)
    return params


def test_build_a_passing_gpu_result():
    result = stress_gpu.build(params_for_build(), make_run(), {"driver_version": "580.159.04"}, "/venv/bin/python",
                              "/tmp/x.csv")
    assert result["passed"] is True and result["failures"] == [] and result["changed"] is False
    assert result["msg"] == ("Stressed 2 GPU(s) for 20.06 s with bf16 8192x8192 products: lowest window 700.0 TFLOP/s, "
                             "mean 700.0 TFLOP/s per GPU, hottest 40 C, 0 mismatching elements; all 19 judged checks passed.")
    assert result["environment"]["driver_version"] == "580.159.04" and result["csv_path"] == "/tmp/x.csv"
    assert result["tables"][0]["rows"] and result["plots"]
    json.dumps(result)


def test_build_a_timed_out_run_with_leftover_processes():
    result = stress_gpu.build(params_for_build(), make_run(gpus=1), {}, "/p", "/tmp/x.csv", timed_out=True,
                              timeout=500, leftover=[4242])
    assert result["passed"] is False
    assert result["failures"] == ["The stress run did not finish within the module's timeout of 500 s and was stopped.",
                                  "Processes of the stress run survived the cleanup: PIDs [4242]."]


@needs_torch
def test_a_whole_run_on_the_cpu_test_path(capsys, monkeypatch, tmp_path):
    csv_path = str(tmp_path / "stress.csv")
    args = {"device": "cpu", "gpus": [0], "matrix_size": 128, "dtype": "fp32", "duration": 3, "sample_interval": 1,
            "worker_python": AI_PYTHON, "csv_path": csv_path, "check_every": 2}
    code, out = run_module(args, capsys, monkeypatch)
    assert code == 0, out["msg"]
    assert out["changed"] is False and out["passed"] is True
    assert out["msg"].startswith("CPU test run (not a GPU result): Stressed 1 CPU worker(s) for ")
    statuses = dict((c["name"], c["status"]) for c in out["checks"])
    assert statuses == {"stress_gpu.device": "info", "stress_gpu.run": "passed", "stress_gpu.gpu0.worker": "passed",
                        "stress_gpu.gpu0.tflops": "info", "stress_gpu.gpu0.mismatches": "passed",
                        "stress_gpu.gpu0.telemetry": "skipped"}
    metrics = out["metrics"]
    assert metrics["device"] == "cpu" and metrics["gpu_count"] == 1 and metrics["mismatches"] == 0
    assert abs(metrics["load_s"] - 3) < 3 and metrics["per_gpu"][0]["checks"] > 0
    assert out["environment"]["torch"].startswith("2.") and out["csv_path"] == csv_path
    with open(csv_path) as handle:
        rows = list(csv.DictReader(handle))
    assert [r["phase"] for r in rows if r["phase"] != "load"] == ["event"]
    assert len([r for r in rows if r["phase"] == "load"]) >= 3


@pytest.mark.parametrize("old", ["python", "python_interpreter"])
def test_the_old_interpreter_names_work_and_are_deprecated(old, capsys, monkeypatch, tmp_path):
    """The family's old names of worker_python choose the interpreter here too, with Ansible's deprecation."""
    forget_deprecations()
    args = {"_ansible_check_mode": True, "csv_path": str(tmp_path / "s.csv"), old: sys.executable}
    code, out = run_module(args, capsys, monkeypatch, two_h200s())
    assert code == 0 and out["msg"].endswith("under %s." % sys.executable)
    assert deprecations(out) == [alias_deprecated(old)]
