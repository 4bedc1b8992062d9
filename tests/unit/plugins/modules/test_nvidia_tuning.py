# -*- coding: utf-8 -*-
"""The nvidia_tuning module around _gpu_tuning: check mode, results, one-sentence failures."""
import json

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.vaultcube.demobox.plugins.modules import nvidia_tuning

QUERY = "0, GPU-0, NVIDIA GeForce RTX 5090, Disabled, 450.00, 575.00, 400.00, 575.00\n"


def run(args, capsys, monkeypatch, smi="/usr/bin/nvidia-smi", answers=None):
    calls = []
    answers = answers or {}

    def run_command(self, argv, **kwargs):
        calls.append(argv)
        if argv[1].startswith("--query-gpu="):
            return answers.get("query", (0, QUERY, ""))
        return answers.get(argv[3], (0, "ok", ""))

    monkeypatch.setattr(basic.AnsibleModule, "run_command", run_command)
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, required=False, opt_dirs=None: smi)
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            nvidia_tuning.main()
    out = json.loads(capsys.readouterr().out)
    return exc.value.code, out, calls


def test_sets_persistence_and_the_board_maximum(tmp_path, capsys, monkeypatch):
    code, out, calls = run({"persistence_mode": True, "power_limit": "max", "cpufreq_path": str(tmp_path)},
                           capsys, monkeypatch)
    assert code == 0 and out["changed"] is True
    assert calls[1:] == [["/usr/bin/nvidia-smi", "-i", "0", "-pm", "1"], ["/usr/bin/nvidia-smi", "-i", "0", "-pl", "575.00"]]
    assert out["msg"] == ("Changed 2 setting(s): GPU 0 (NVIDIA GeForce RTX 5090): persistence mode on; "
                          "GPU 0 (NVIDIA GeForce RTX 5090): power limit 450 W -> 575 W.")


def test_check_mode_only_queries(tmp_path, capsys, monkeypatch):
    code, out, calls = run({"persistence_mode": True, "power_limit": "max", "cpu_governor": "performance",
                            "cpufreq_path": str(tmp_path / "none"), "_ansible_check_mode": True}, capsys, monkeypatch)
    assert code == 0 and out["changed"] is True
    assert [c for c in calls if not c[1].startswith("--query")] == []
    assert out["msg"].startswith("Would change 2 setting(s)")
    assert "no CPU frequency scaling" in out["msg"]


def test_nothing_asked_nothing_done(capsys, monkeypatch):
    code, out, calls = run({}, capsys, monkeypatch)
    assert code == 0 and out["changed"] is False and calls == []
    assert out["msg"] == "Every setting asked for was already in place."


def test_above_the_maximum_fails_before_changing(tmp_path, capsys, monkeypatch):
    code, out, calls = run({"persistence_mode": True, "power_limit": "600"}, capsys, monkeypatch)
    assert code == 1 and out["changed"] is False
    assert out["msg"].startswith("The power limit of 600 W asked for GPU 0")
    assert len(calls) == 1


def test_bad_power_limit_is_one_sentence(capsys, monkeypatch):
    code, out, calls = run({"power_limit": "lots"}, capsys, monkeypatch)
    assert code == 1 and out["msg"] == "power limit must be max, default or a number of watts, got 'lots'."


def test_no_nvidia_smi(capsys, monkeypatch):
    code, out, calls = run({"power_limit": "max"}, capsys, monkeypatch, smi=None)
    assert code == 0 and out["changed"] is False
    assert out["notes"] == ["nvidia-smi was not found (no NVIDIA driver yet); GPU settings left alone."]


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf W"])
def test_a_power_limit_that_is_not_a_finite_number_is_refused_before_asking(capsys, monkeypatch, value):
    code, out, calls = run({"power_limit": value}, capsys, monkeypatch)
    assert code == 1 and calls == []
    assert out["msg"] == "power limit must be max, default or a finite number of watts, got '%s'." % value


@pytest.mark.parametrize("answer", ["garbage\n", "GPU 0: NVIDIA H200, a, b, c, d, e, f, g\n", "0, GPU-0, H200\n"])
def test_unexpected_nvidia_smi_output_is_one_sentence_and_changes_nothing(capsys, monkeypatch, answer):
    code, out, calls = run({"persistence_mode": True, "power_limit": "max"}, capsys, monkeypatch,
                           answers={"query": (0, answer, "")})
    assert code == 1 and out["changed"] is False and len(calls) == 1
    assert out["msg"].startswith("nvidia-smi answered something this module cannot read (unexpected nvidia-smi output line: ")
    assert out["msg"].endswith("); nothing was changed.")


def test_anything_else_unexpected_is_one_sentence_with_the_detail_apart(capsys, monkeypatch):
    def explode(self, argv, **kwargs):
        raise OSError(8, "Exec format error")
    monkeypatch.setattr(basic.AnsibleModule, "run_command", explode)
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, required=False, opt_dirs=None: "/x/nvidia-smi")
    with patch_module_args({"power_limit": "max"}):
        with pytest.raises(SystemExit) as exc:
            nvidia_tuning.main()
    out = json.loads(capsys.readouterr().out)
    assert exc.value.code == 1 and out["changed"] is False
    assert out["msg"] == "The tuning could not be planned or applied: [Errno 8] Exec format error."
    assert out["detail"] == "OSError(8, 'Exec format error')"
