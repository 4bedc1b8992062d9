# -*- coding: utf-8 -*-
"""The corpus of bad module options: every module refuses each with one sentence (naming the option
or the path), exit status 1, changed false, and never a traceback (an exception escaping main()
fails the test). Each refusal happens before anything is measured or changed: no module here gets
as far as a probe, a worker or nvidia-smi."""
import json
import re

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.vaultcube.demobox.plugins.modules import (
    ai_frameworks_facts,
    cuda_facts,
    ddp_benchmark,
    gpu_bandwidth,
    gpu_facts,
    nvidia_compat,
    nvidia_tuning,
    stress_gpu,
    vllm_bench,
)

NOT_A_FILE = "/nonexistent/bin/python"


def refuse(module, args, capsys, monkeypatch):
    ran = []
    monkeypatch.setattr(basic.AnsibleModule, "run_command", lambda self, argv, **kw: ran.append(argv) or (1, "", "no"))
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            module.main()
    out = json.loads(capsys.readouterr().out)
    assert exc.value.code == 1, out
    assert out.get("changed") is not True and "exception" not in out, out
    assert ran == [], "a command ran before the refusal: %s" % ran
    msg = out["msg"]
    assert msg.endswith(".") and "\n" not in msg and "Traceback" not in msg, msg
    return msg


CASES = [
    # module, args, a regular expression the sentence must match
    (gpu_facts, {"min_driver_version": "latest"}, r"min_driver_version"),
    (gpu_facts, {"expected_name": "RTX (5090"}, r"^expected_name is not a valid regular expression: "),
    (ai_frameworks_facts, {"matmul_size": 0}, r"^matmul_size must be between 1 and 16384, got 0\.$"),
    (ai_frameworks_facts, {"timeout": 0}, r"^(probe_)?timeout must be 1 second or more, got 0\.$"),
    (ai_frameworks_facts, {"expected_gpu_count": -1}, r"^expected_gpu_count must be 0 or more, got -1\.$"),
    (cuda_facts, {"query_timeout": 0}, r"^query_timeout must be 1 second or more, got 0\.$"),
    (ddp_benchmark, {"batch_size": 0}, r"^batch_size must be 1 or more, got 0\.$"),
    (ddp_benchmark, {"nnodes": 2, "node_rank": 2}, r"^node_rank must be between 0 and nnodes - 1 \(1\), got 2\.$"),
    (gpu_bandwidth, {"timeout": 5}, r"^timeout must be at least 10 seconds, got 5\.$"),
    (gpu_bandwidth, {"min_busbw": "150%"}, r"^min_busbw as a share of the limit must be above 0% and at most 100%, got '150%'\.$"),
    (gpu_bandwidth, {"min_h2d": "fast"}, r"^min_h2d must be a bandwidth in GB/s \(e\.g\. 40\) or a share of the path's limit"),
    (gpu_bandwidth, {"rdzv_endpoint": "nohost"}, r"^rdzv_endpoint must look like host:port, got 'nohost'\.$"),
    (stress_gpu, {"duration": 0}, r"^duration must be at least 1 second, got 0\.$"),
    (stress_gpu, {"memory_fraction": 1.5}, r"^memory_fraction must be above 0 and at most 0\.98, got 1\.5\.$"),
    (stress_gpu, {"sample_interval": 0.1}, r"^sample_interval must be at least 0\.5 seconds, got 0\.1\.$"),
    (vllm_bench, {"model": "opt-1.3b", "gpu_memory_utilization": 1.5},
     r"^gpu_memory_utilization must be more than 0 and at most 1, got 1\.5\.$"),
    (vllm_bench, {"model": "opt-1.3b", "tensor_parallel_size": 0}, r"^tensor_parallel_size must be 1 or more, got 0\.$"),
    (vllm_bench, {"model": "/nonexistent/model"}, r"^The model path /nonexistent/model does not exist\.$"),
    (nvidia_compat, {"branch": "latest"}, r"^'latest' is not a driver branch"),
    (nvidia_compat, {"cuda_version": "thirteen"}, r"^'thirteen' is not a CUDA version"),
    (nvidia_tuning, {"power_limit": "nan"}, r"^power limit must be max, default or a finite number of watts, got 'nan'\.$"),
    (nvidia_tuning, {"power_limit": "-5"}, r"^power limit must be above 0 W, got '-5'\.$"),
    # validation_report is an action plugin (no main()): its bad options are refused in the same
    # words, tested in tests/unit/plugins/action/test_validation_report.py.
]


CASE_IDS = ["%s-%s" % (case[0].__name__.rsplit(".", 1)[-1], "-".join(case[1])) for case in CASES]


@pytest.mark.parametrize("module,args,expect", CASES, ids=CASE_IDS)
def test_a_bad_option_is_one_sentence(capsys, monkeypatch, module, args, expect):
    msg = refuse(module, args, capsys, monkeypatch)
    assert re.search(expect, msg), msg


@pytest.mark.parametrize("module,option,extra", [
    (ai_frameworks_facts, "python", {}),
    (stress_gpu, "worker_python", {}),
    (gpu_bandwidth, "worker_python", {}),
])
def test_an_interpreter_that_is_missing_or_a_directory_is_one_sentence(tmp_path, capsys, monkeypatch, module, option, extra):
    for path in (NOT_A_FILE, str(tmp_path)):
        args = dict(extra)
        args[option] = path
        msg = refuse(module, args, capsys, monkeypatch)
        assert path in msg and re.search(r"does not exist|not (an )?executable", msg), msg
