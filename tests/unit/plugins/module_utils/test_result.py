# -*- coding: utf-8 -*-
import pytest

from ansible_collections.vaultcube.demobox.plugins.module_utils import _result as R


def test_judge_min():
    assert R.judge_min("a", "Rate", 12.5, 10, "tokens/s")["status"] == "passed"
    failed = R.judge_min("a", "Rate", 8.0, 10, "tokens/s", subject="GPU 0")
    assert failed["status"] == "failed"
    assert failed["message"] == "Rate on GPU 0 is 8 tokens/s, below the minimum of 10 tokens/s."
    assert R.judge_min("a", "Rate", 8.0, None)["status"] == "info"
    assert R.judge_min("a", "Rate", None, 10)["status"] == "skipped"


def test_judge_max():
    assert R.judge_max("t", "Temperature", 84, 85, "C")["status"] == "passed"
    assert R.judge_max("t", "Temperature", 86, 85, "C")["message"] == "Temperature is 86 C, above the maximum of 85 C."
    assert R.judge_max("t", "Temperature", 86, None)["status"] == "info"


def test_judge_equal():
    assert R.judge_equal("c", "GPU count", 4, 4)["status"] == "passed"
    assert R.judge_equal("c", "GPU count", 3, 4)["message"] == "GPU count: expected 4, found 3."


def test_unknown_status_is_refused():
    with pytest.raises(ValueError):
        R.make_check("x", "maybe")


def test_summarize():
    assert R.summarize([]) == (None, [])
    assert R.summarize([R.skipped("a", "no GPU")]) == (None, [])
    assert R.summarize([R.judge_min("a", "A", 2, 1)]) == (True, [])
    assert R.summarize([R.judge_min("a", "A", 2, 1), R.judge_min("b", "B", 0, 1)]) == (False, ["B is 0, below the minimum of 1."])


def test_build_result_contract_keys():
    res = R.build_result([R.judge_min("a", "A", 2, 1)], {"a": 2}, {"a": 1}, {"v": "1"})
    assert set(res) == {"changed", "passed", "checks", "metrics", "thresholds", "failures", "environment", "msg"}
    assert res["changed"] is False and res["passed"] is True
    assert res["msg"] == "All 1 judged checks passed."
    assert R.build_result([R.skipped("a", "no GPU")], {}, {}, {})["msg"] == "Nothing was judged: no GPU"


class FakeModule:
    def __init__(self):
        self.exited = None

    def fail_json(self, **kw):
        self.exited = ("fail", kw)
        raise SystemExit(1)

    def exit_json(self, **kw):
        self.exited = ("exit", kw)
        raise SystemExit(0)


def test_exit_with():
    mod = FakeModule()
    with pytest.raises(SystemExit):
        R.exit_with(mod, R.build_result([R.judge_min("a", "A", 0, 1)], {}, {}, {}), True)
    assert mod.exited[0] == "fail" and mod.exited[1]["changed"] is False
    mod = FakeModule()
    with pytest.raises(SystemExit):
        R.exit_with(mod, R.build_result([R.judge_min("a", "A", 0, 1)], {}, {}, {}), False)
    assert mod.exited[0] == "exit"
