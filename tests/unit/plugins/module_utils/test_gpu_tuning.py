# -*- coding: utf-8 -*-
"""Runtime tuning: nvidia-smi is replaced at the boundary by a recorder that answers queries
like the real tool and records every command; the CPU governors are real files."""
import json

import pytest

from ansible_collections.vaultcube.demobox.plugins.module_utils import _gpu_tuning as T

SMI = "/usr/bin/nvidia-smi"


class FakeSmi:
    """Answers --query-gpu like nvidia-smi 580 and applies -pm / -pl to its own state."""

    def __init__(self, gpus, fail=None):
        self.gpus = gpus
        self.calls = []
        self.fail = fail or {}

    def __call__(self, argv):
        self.calls.append(argv)
        assert argv[0] == SMI
        if argv[1].startswith("--query-gpu="):
            rows = []
            for g in self.gpus:
                rows.append(", ".join([str(g["index"]), g["uuid"], g["name"], g["pm"], g["limit"], g["default"],
                                       g["min"], g["max"]]))
            return 0, "\n".join(rows) + "\n", ""
        index = int(argv[2])
        flag, value = argv[3], argv[4]
        if flag in self.fail:
            return 4, "", self.fail[flag]
        gpu = self.gpus[index]
        if flag == "-pm":
            gpu["pm"] = "Enabled" if value == "1" else "Disabled"
        elif flag == "-pl":
            gpu["limit"] = value
        return 0, "done", ""

    def setters(self):
        return [c for c in self.calls if not c[1].startswith("--query")]


def rtx5090(index, pm="Disabled", limit="450.00"):
    return {"index": index, "uuid": "GPU-%d" % index, "name": "NVIDIA GeForce RTX 5090", "pm": pm, "limit": limit,
            "default": "575.00", "min": "400.00", "max": "575.00"}


def h200(pm="Enabled"):
    return {"index": 0, "uuid": "GPU-h200", "name": "NVIDIA H200", "pm": pm, "limit": "700.00",
            "default": "700.00", "min": "200.00", "max": "700.00"}


def cpufreq(tmp_path, governors, available="performance powersave"):
    root = tmp_path / "cpufreq"
    for i, governor in enumerate(governors):
        policy = root / ("policy%d" % i)
        policy.mkdir(parents=True)
        (policy / "scaling_governor").write_text(governor + "\n")
        (policy / "scaling_available_governors").write_text(available + "\n")
    return str(root)


def test_four_rtx5090_at_450w_go_to_their_575w_maximum_and_persistence_on(tmp_path):
    smi = FakeSmi([rtx5090(i) for i in range(4)])
    result = T.tune(smi, SMI, True, "max", None, str(tmp_path / "none"))
    assert result["errors"] == [] and result["changed"] is True
    assert smi.setters() == [[SMI, "-i", str(i), flag, value] for i in range(4)
                             for flag, value in (("-pm", "1"), ("-pl", "575.00"))]
    assert result["actions"][:2] == ["GPU 0 (NVIDIA GeForce RTX 5090): persistence mode on",
                                     "GPU 0 (NVIDIA GeForce RTX 5090): power limit 450 W -> 575 W"]
    # and a second run changes nothing
    again = T.tune(smi, SMI, True, "max", None, str(tmp_path / "none"))
    assert again["changed"] is False and again["actions"] == []


def test_the_board_maximum_comes_from_the_board(tmp_path):
    board = rtx5090(0, limit="575.00")
    board["max"] = "600.00"  # a partner card with a higher ceiling
    smi = FakeSmi([board])
    result = T.tune(smi, SMI, None, "max", None)
    assert smi.setters() == [[SMI, "-i", "0", "-pl", "600.00"]] and result["changed"]


def test_a_limit_above_the_board_maximum_is_refused_before_any_change():
    smi = FakeSmi([rtx5090(0), rtx5090(1)])
    result = T.tune(smi, SMI, True, "600", None)
    assert smi.setters() == []
    assert result["errors"] == [
        "The power limit of 600 W asked for GPU 0 (NVIDIA GeForce RTX 5090) is above the board's maximum of 575 W; "
        "the limit is never set above the board's own maximum.",
        "The power limit of 600 W asked for GPU 1 (NVIDIA GeForce RTX 5090) is above the board's maximum of 575 W; "
        "the limit is never set above the board's own maximum."]


def test_a_limit_below_the_minimum_is_refused():
    result = T.tune(FakeSmi([rtx5090(0)]), SMI, None, "300W", None)
    assert result["errors"] == ["The power limit of 300 W asked for GPU 0 (NVIDIA GeForce RTX 5090) is below the "
                                "board's minimum of 400 W."]


def test_default_and_explicit_watts():
    smi = FakeSmi([rtx5090(0)])
    T.tune(smi, SMI, None, "default", None)
    assert smi.setters() == [[SMI, "-i", "0", "-pl", "575.00"]]
    smi = FakeSmi([rtx5090(0, limit="575.00")])
    T.tune(smi, SMI, None, "500", None)
    assert smi.setters() == [[SMI, "-i", "0", "-pl", "500.00"]]


def test_within_half_a_watt_is_already_there():
    smi = FakeSmi([rtx5090(0, pm="Enabled", limit="574.60")])
    result = T.tune(smi, SMI, True, "max", None)
    assert smi.setters() == [] and result["changed"] is False


def test_h200_at_its_maximum_changes_nothing():
    smi = FakeSmi([h200()])
    result = T.tune(smi, SMI, True, "max", None)
    assert result["changed"] is False and smi.setters() == []
    assert result["gpus"] == [{"index": 0, "name": "NVIDIA H200", "uuid": "GPU-h200", "persistence_mode": True,
                               "power_limit_w": 700.0, "power_max_w": 700.0, "changes": []}]


def test_check_mode_issues_no_setting_command(tmp_path):
    root = cpufreq(tmp_path, ["powersave", "powersave"])
    smi = FakeSmi([rtx5090(0)])
    result = T.tune(smi, SMI, True, "max", "performance", root, check_mode=True,
                    write=lambda path, value: pytest.fail("wrote %s in check mode" % path))
    assert smi.setters() == []
    assert result["changed"] is True and len(result["actions"]) == 4


def test_persistence_off_and_unsupported_values():
    board = rtx5090(0, pm="Enabled")
    smi = FakeSmi([board])
    T.tune(smi, SMI, False, None, None)
    assert smi.setters() == [[SMI, "-i", "0", "-pm", "0"]]
    odd = rtx5090(0, pm="[N/A]", limit="[N/A]")
    odd["max"] = "[N/A]"
    result = T.tune(FakeSmi([odd]), SMI, True, "max", None)
    assert result["changed"] is False
    assert result["notes"] == ["GPU 0 (NVIDIA GeForce RTX 5090) does not report persistence mode; left alone.",
                               "GPU 0 (NVIDIA GeForce RTX 5090) does not offer a settable power limit; left alone."]


def test_a_failing_nvidia_smi_setter_stops_with_one_sentence():
    smi = FakeSmi([rtx5090(0), rtx5090(1)], fail={"-pl": "Changing power management limit is not supported."})
    result = T.tune(smi, SMI, True, "max", None)
    assert result["errors"] == ["nvidia-smi could not set power limit 450 W -> 575 W on GPU 0 (NVIDIA GeForce RTX 5090): "
                                "Changing power management limit is not supported."]
    assert len(smi.setters()) == 2  # persistence of GPU 0 was set, then the power limit failed


def test_no_driver_or_no_answer_leaves_the_gpus_alone():
    result = T.tune(None, None, True, "max", None)
    assert result["notes"] == ["nvidia-smi was not found (no NVIDIA driver yet); GPU settings left alone."]

    def broken(argv):
        return 9, "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.", ""
    result = T.tune(broken, SMI, True, "max", None)
    assert result["notes"] == ["nvidia-smi does not answer (NVIDIA-SMI has failed because it couldn't communicate "
                               "with the NVIDIA driver.); GPU settings left alone."]


def test_governor_set_on_every_policy_that_differs(tmp_path):
    root = cpufreq(tmp_path, ["powersave", "performance", "schedutil"], available="performance powersave schedutil")
    result = T.tune(None, None, None, None, "performance", root)
    assert result["errors"] == [] and result["changed"]
    assert result["cpu"] == {"governor": "performance", "policies": 3,
                             "before": ["performance", "powersave", "schedutil"], "to_change": ["policy0", "policy2"]}
    assert [(tmp_path / "cpufreq" / p / "scaling_governor").read_text().strip() for p in ("policy0", "policy1", "policy2")] \
        == ["performance"] * 3
    assert T.tune(None, None, None, None, "performance", root)["changed"] is False


def test_governor_not_offered_is_refused(tmp_path):
    root = cpufreq(tmp_path, ["schedutil"], available="schedutil ondemand")
    result = T.tune(None, None, None, None, "performance", root)
    assert result["errors"] == ["The CPU governor performance is not offered by policy0 (it offers schedutil, ondemand)."]


def test_governor_write_failure_and_no_cpufreq(tmp_path):
    root = cpufreq(tmp_path, ["powersave"])

    def deny(path, value):
        raise OSError(30, "Read-only file system")
    result = T.tune(None, None, None, None, "performance", root, write=deny)
    assert result["errors"] == ["The CPU governor of policy0 could not be set to performance: [Errno 30] Read-only "
                                "file system."]
    result = T.tune(None, None, None, None, "performance", str(tmp_path / "none"))
    assert result["notes"] == ["This host has no CPU frequency scaling (%s); the governor was left alone."
                               % (tmp_path / "none")]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert T.read_governors(str(empty)) is None


@pytest.mark.parametrize("value,parsed", [(None, None), ("", None), ("max", "max"), ("MAX", "max"),
                                          ("default", "default"), ("575", 575.0), ("575W", 575.0), (450, 450.0)])
def test_parse_power_limit(value, parsed):
    assert T.parse_power_limit(value) == parsed


@pytest.mark.parametrize("value", ["lots", "-5", "0"])
def test_parse_power_limit_refuses(value):
    with pytest.raises(ValueError):
        T.parse_power_limit(value)


def test_parse_query_names_with_commas_and_bad_lines():
    text = "0, GPU-1, NVIDIA RTX PRO 6000 Blackwell, Server Edition, Enabled, 600.00, 600.00, 400.00, 600.00\n\n"
    gpu = T.parse_query(text)[0]
    assert gpu["name"] == "NVIDIA RTX PRO 6000 Blackwell, Server Edition" and gpu["power_max_w"] == 600.0
    with pytest.raises(ValueError):
        T.parse_query("0, GPU-1, short\n")


def test_the_boot_script_entry_point(monkeypatch, capsys, tmp_path):
    smi = FakeSmi([rtx5090(0)])
    monkeypatch.setattr(T, "_subprocess_run", smi)
    code = T.main(["--persistence", "on", "--power-limit", "max", "--nvidia-smi", SMI])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["changed"] is True and out["errors"] == []
    code = T.main(["--power-limit", "9000", "--nvidia-smi", SMI])
    out = json.loads(capsys.readouterr().out)
    assert code == 1 and "above the board's maximum" in out["errors"][0]
    code = T.main(["--power-limit", "lots"])
    assert code == 1 and "power limit must be" in json.loads(capsys.readouterr().out)["errors"][0]


def test_subprocess_runner_runs_a_real_command():
    rc, out, err = T._subprocess_run(["/bin/sh", "-c", "echo out; echo err >&2; exit 3"])
    assert (rc, out, err) == (3, "out\n", "err\n")
