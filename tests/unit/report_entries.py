# -*- coding: utf-8 -*-
"""Report entries the validation_report tests share (the action on the controller and the module on a
host): one judged gpu_facts check and one skipped module, and the malformed entries both refuse."""

from ansible_collections.vaultcube.demobox.plugins.module_utils import _result as R


def results(ok=True):
    checks = [R.judge_equal("gpu_facts.count", "GPU count", 2, 2 if ok else 3)]
    return [{"module": "gpu_facts", "result": R.build_result(checks, {}, {}, {})},
            {"module": "stress_gpu", "skipped_reason": "No NVIDIA GPU."}]


MALFORMED = [
    ({"result": {}}, "results[0] has no 'module' name."),
    ({"module": "x"}, "results[0] (x) needs either 'result' or 'skipped_reason'."),
    ({"module": "x", "result": "oops"}, "results[0] (x): 'result' must be a module result (a dict)."),
]
