# -*- coding: utf-8 -*-
import json

import pytest
from ansible.module_utils.testing import patch_module_args
from fake_nvml import FakeNVML, h200, rtx5090

from ansible_collections.vaultcube.demobox.plugins.module_utils import _nvml
from ansible_collections.vaultcube.demobox.plugins.modules import gpu_facts


def run_module(args, fake, capsys, monkeypatch, reason=None):
    monkeypatch.setattr(_nvml, "load_binding", lambda paths: (fake, reason))
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            gpu_facts.main()
    out = json.loads(capsys.readouterr().out)
    return exc.value.code, out


def four_5090s(**over):
    return FakeNVML([rtx5090(uuid="GPU-%d" % i, bus_id="0000000%d:01:00.0" % i, **over) for i in range(4)])


def statuses(out):
    return {c["name"]: c["status"] for c in out["checks"]}


def test_no_expectations_reports_facts(capsys, monkeypatch):
    code, out = run_module({}, four_5090s(), capsys, monkeypatch)
    assert code == 0
    assert out["changed"] is False
    assert out["passed"] is True  # only the default clocks-event check is judged
    facts = out["ansible_facts"]
    assert facts["gpu_count"] == 4
    assert facts["nvidia_driver_version"] == "580.95.05"
    assert facts["nvidia_cuda_driver_version"] == "13.0"
    assert [g["index"] for g in facts["gpus"]] == [0, 1, 2, 3]
    assert statuses(out)["gpu_facts.count"] == "info"
    assert "Found 4 GPU(s): NVIDIA GeForce RTX 5090" in out["msg"]


def test_all_expectations_met(capsys, monkeypatch):
    args = {"expected_count": 4, "min_driver_version": "570", "expected_name": "RTX 5090",
            "min_pcie_gen": 5, "min_pcie_width": 16}
    code, out = run_module(args, four_5090s(), capsys, monkeypatch)
    assert code == 0 and out["passed"] is True and out["failures"] == []
    assert statuses(out) == {"gpu_facts.count": "passed", "gpu_facts.driver_version": "passed",
                             "gpu_facts.name": "passed", "gpu_facts.pcie_gen": "passed",
                             "gpu_facts.pcie_width": "passed", "gpu_facts.temperature": "info",
                             "gpu_facts.ecc_errors": "info", "gpu_facts.clocks_events": "passed"}


def test_count_one_more_than_present_fails_with_one_sentence(capsys, monkeypatch):
    code, out = run_module({"expected_count": 5}, four_5090s(), capsys, monkeypatch)
    assert code == 1 and out["failed"] is True and out["passed"] is False
    assert out["failures"] == ["Expected 5 GPUs, found 4."]
    assert out["msg"] == "Expected 5 GPUs, found 4."
    # the facts still come back, so a rescue/report can use them
    assert out["ansible_facts"]["gpu_count"] == 4


def test_fail_on_threshold_false_returns_the_failure_without_failing(capsys, monkeypatch):
    code, out = run_module({"expected_count": 5, "fail_on_threshold": False}, four_5090s(), capsys, monkeypatch)
    assert code == 0 and out["passed"] is False and "failed" not in out
    assert out["failures"] == ["Expected 5 GPUs, found 4."]


@pytest.mark.parametrize("wanted,driver,ok", [
    ("570", "570.124.06", True), ("570.124.06", "570.124.06", True), ("570.124.07", "570.124.06", False),
    ("570", "550.163.01", False), ("580", "1000.1", True),
])
def test_driver_version_compared_numerically(capsys, monkeypatch, wanted, driver, ok):
    fake = FakeNVML([rtx5090()], driver=driver)
    code, out = run_module({"min_driver_version": wanted}, fake, capsys, monkeypatch)
    assert statuses(out)["gpu_facts.driver_version"] == ("passed" if ok else "failed")
    if not ok:
        assert out["msg"] == "Expected an NVIDIA driver %s or newer, found %s." % (wanted, driver)


def test_name_mismatch_names_the_gpu(capsys, monkeypatch):
    fake = FakeNVML([rtx5090(), rtx5090(name="NVIDIA GeForce RTX 4090", uuid="x")])
    code, out = run_module({"expected_name": "RTX 5090"}, fake, capsys, monkeypatch)
    assert code == 1
    assert out["msg"] == "Expected every GPU name to match 'RTX 5090', but GPU 1 is 'NVIDIA GeForce RTX 4090'."


def test_pcie_width_below_minimum_names_gpu_and_bus(capsys, monkeypatch):
    fake = FakeNVML([rtx5090(), rtx5090(uuid="x", bus_id="00000000:02:00.0", pcie_width=8)])
    code, out = run_module({"min_pcie_width": 16, "min_pcie_gen": 5}, fake, capsys, monkeypatch)
    assert code == 1
    assert out["failures"] == ["PCIe link width on GPU 1 (00000000:02:00.0) is 8 lanes, below the minimum of 16 lanes."]
    assert statuses(out)["gpu_facts.pcie_gen"] == "passed"
    # the degraded link is also flagged as information
    assert statuses(out)["gpu_facts.pcie_link"] == "info"


def test_idle_gen1_link_is_not_judged_as_degraded(capsys, monkeypatch):
    code, out = run_module({"min_pcie_gen": 5}, four_5090s(pcie_gen=1), capsys, monkeypatch)
    assert code == 0 and statuses(out)["gpu_facts.pcie_gen"] == "passed"
    assert "gpu_facts.pcie_link" not in statuses(out)


def test_no_driver_is_count_zero_with_reason_not_a_failure(capsys, monkeypatch):
    code, out = run_module({"min_driver_version": "570"}, FakeNVML(init_error=12), capsys, monkeypatch)
    assert code == 0 and out["passed"] is None
    assert out["ansible_facts"]["gpu_count"] == 0
    assert "libnvidia-ml.so.1) was not found" in out["ansible_facts"]["gpu_facts_reason"]
    assert statuses(out) == {"gpu_facts.count": "info", "gpu_facts.driver_version": "skipped",
                             "gpu_facts.temperature": "skipped", "gpu_facts.ecc_errors": "skipped",
                             "gpu_facts.clocks_events": "skipped"}


def test_no_driver_with_expected_count_fails_with_the_reason(capsys, monkeypatch):
    code, out = run_module({"expected_count": 4}, FakeNVML(init_error=9), capsys, monkeypatch)
    assert code == 1
    assert out["msg"] == "Expected 4 GPUs, found 0: the NVIDIA kernel driver is not loaded."


def test_missing_binding_is_count_zero_with_reason(capsys, monkeypatch):
    code, out = run_module({}, None, capsys, monkeypatch, reason="the NVML Python binding nvidia-ml-py is not installed")
    assert code == 0 and out["ansible_facts"]["gpu_count"] == 0
    assert "nvidia-ml-py" in out["msg"]


@pytest.mark.parametrize("args,msg", [
    ({"expected_count": -1}, "expected_count must be 0 or more, got -1."),
    ({"min_pcie_gen": 0}, "min_pcie_gen must be from 1 to 7, got 0."),
    ({"min_pcie_gen": 99}, "min_pcie_gen must be from 1 to 7, got 99."),
    ({"min_pcie_width": 33}, "min_pcie_width must be from 1 to 32, got 33."),
    ({"max_temperature_c": -500}, "max_temperature_c must be above absolute zero (-273.15 C) and at most 150 C, got -500.0."),
    ({"max_temperature_c": "nan"}, "max_temperature_c must be above absolute zero (-273.15 C) and at most 150 C, got nan."),
    ({"min_driver_version": "latest"}, "min_driver_version must look like 570 or 570.124.06, got 'latest'."),
    ({"expected_name": "RTX ("}, "expected_name is not a valid regular expression"),
    ({"expected_count": "four"}, "expected_count"),
])
def test_bad_parameters_fail_with_one_sentence(capsys, monkeypatch, args, msg):
    fake = four_5090s()
    code, out = run_module(args, fake, capsys, monkeypatch)
    assert code == 1 and msg in out["msg"]
    assert fake.initialised == 0  # nothing was touched


def test_check_mode_runs_the_read_only_query(capsys, monkeypatch):
    code, out = run_module({"_ansible_check_mode": True, "expected_count": 4}, four_5090s(), capsys, monkeypatch)
    assert code == 0 and out["passed"] is True and out["changed"] is False


def test_hot_gpu_is_named(capsys, monkeypatch):
    fake = FakeNVML([rtx5090(temperature=60), rtx5090(uuid="x", temperature=88)])
    code, out = run_module({"max_temperature_c": 85}, fake, capsys, monkeypatch)
    assert code == 1
    assert out["msg"] == "GPU temperature above the maximum of 85.0 C: GPU 1 at 88 C."


def test_cool_gpus_pass_temperature(capsys, monkeypatch):
    code, out = run_module({"max_temperature_c": 85}, four_5090s(temperature=40), capsys, monkeypatch)
    assert code == 0 and statuses(out)["gpu_facts.temperature"] == "passed"


def test_uncorrected_ecc_errors_fail(capsys, monkeypatch):
    counts = {(0, 0): 0, (1, 0): 2, (0, 1): 0, (1, 1): 2}
    fake = FakeNVML([h200(), h200(uuid="y", ecc_counts=counts)])
    code, out = run_module({}, fake, capsys, monkeypatch)
    assert code == 1
    assert out["msg"] == "Uncorrected ECC errors since the driver loaded: GPU 1 has 2."


def test_ecc_clean_passes(capsys, monkeypatch):
    code, out = run_module({}, FakeNVML([h200()]), capsys, monkeypatch)
    assert statuses(out)["gpu_facts.ecc_errors"] == "passed"


def test_thermal_slowdown_fails_power_cap_does_not(capsys, monkeypatch):
    fake = FakeNVML([rtx5090(reasons=0x4), rtx5090(uuid="z", reasons=0x40 | 0x4)])
    code, out = run_module({}, fake, capsys, monkeypatch)
    assert code == 1
    assert out["msg"] == "Forbidden clocks-event reasons active: GPU 1: hw_thermal_slowdown."
    code, out = run_module({"forbidden_clocks_event_reasons": []}, fake, capsys, monkeypatch)
    assert code == 0 and statuses(out)["gpu_facts.clocks_events"] == "info"


def test_unknown_reason_name_is_refused(capsys, monkeypatch):
    code, out = run_module({"forbidden_clocks_event_reasons": ["too_hot"]}, four_5090s(), capsys, monkeypatch)
    assert code == 1 and "forbidden_clocks_event_reasons" in out["msg"]


def test_inventory_table_for_the_report(capsys, monkeypatch):
    code, out = run_module({}, FakeNVML([rtx5090(), h200(uuid="h")]), capsys, monkeypatch)
    table = out["tables"][0]
    assert table["title"] == "GPUs" and len(table["rows"]) == 2
    row = dict(zip(table["columns"], table["rows"][0]))
    assert row["power W (draw / limit)"] == "21.5 / 575.0"
    assert row["PCIe width (now / max)"] == "x16 / x16"
    assert row["ECC"] == "n/a"
    assert dict(zip(table["columns"], table["rows"][1]))["ECC"] == "on, 0 uncorrected"
    code, out = run_module({}, FakeNVML(init_error=12), capsys, monkeypatch)
    assert out["tables"] == []
