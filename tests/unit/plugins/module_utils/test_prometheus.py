# -*- coding: utf-8 -*-
"""Prometheus text format of the validation report and of vaultcube-monitor's GPU telemetry.

promtool itself checks these files in molecule (monitoring_prometheus); here a strict reading of
the exposition format (HELP and TYPE before the samples, one family block per name, no duplicate
series, label values escaped) checks every file this module makes.
"""
import io
import os
import re

import pytest
from fake_nvml import FakeNVML, h200, rtx5090

from ansible_collections.vaultcube.demobox.plugins.module_utils import _monitor as M
from ansible_collections.vaultcube.demobox.plugins.module_utils import _prometheus as P
from ansible_collections.vaultcube.demobox.plugins.module_utils import _report
from ansible_collections.vaultcube.demobox.plugins.module_utils import _result as R

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')


def parse(text):
    """{name: {(sorted label items): value}}; asserts the format rules on the way."""
    families, typed, current = {}, {}, None
    assert text.endswith("\n")
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name = line.split()[2]
            assert name not in families, "family %s appears twice" % name
            families[name], current = {}, name
            continue
        if line.startswith("# TYPE "):
            dummy, dummy, name, kind = line.split()
            assert name == current and kind in ("gauge", "counter")
            typed[name] = kind
            continue
        match = _SAMPLE.match(line)
        assert match, "not a sample line: %r" % line
        name, dummy, label_text, value = match.groups()
        assert name == current and name in typed, "%s outside its family block" % name
        labels = []
        rest = label_text or ""
        while rest:
            label = _LABEL.match(rest)
            assert label, "bad labels in %r" % line
            value_text = re.sub(r'\\(.)', lambda m: "\n" if m.group(1) == "n" else m.group(1), label.group(2))
            labels.append((label.group(1), value_text))
            rest = rest[label.end():]
        key = tuple(sorted(labels))
        assert key not in families[name], "duplicate series %r" % line
        families[name][key] = float(value)
    return families


def series(families, metric, **labels):
    return [value for key, value in families[metric].items() if all((k, v) in key for k, v in labels.items())]


def stress_result():
    checks = [
        R.make_check("stress_gpu.run", "passed", 59.98, {"duration": 60.0}, "s", "ran"),
        R.judge_min("stress_gpu.gpu0.tflops", "TFLOP/s", 658.781, None, "TFLOP/s"),
        R.judge_min("stress_gpu.gpu1.tflops", "TFLOP/s", 12.5, 100.0, "TFLOP/s"),
        R.judge_max("stress_gpu.gpu0.temperature", "Temperature", 59, 85.0, "C"),
        R.make_check("stress_gpu.gpu0.clocks_events", "passed", {"sw_power_cap": 60.0},
                     {"forbidden": ["hw_slowdown"]}, "s", "none forbidden"),
    ]
    return R.build_result(checks, {}, {}, {})


def gpu_facts_result():
    checks = [
        R.judge_equal("gpu_facts.count", "GPU count", 2, 2),
        R.make_check("gpu_facts.driver_version", "passed", "580.159.04", {"min": "570"}, None, "new enough"),
        R.make_check("gpu_facts.ecc_errors", "passed", [0, 3], {"max": 0}, None, 'ECC "per GPU"\\ok'),
        R.make_check("gpu_facts.pcie_gen", "info", [5, 5], None, None, "gen 5"),
    ]
    return R.build_result(checks, {}, {}, {})


def a_report(**extra):
    entries = [{"module": "gpu_facts", "result": gpu_facts_result()},
               {"module": "stress_gpu", "result": stress_result()},
               {"module": "vllm_bench", "result": {"msg": "vLLM is not installed."}},
               {"module": "ddp_benchmark", "skipped_reason": "No GPU."}]
    report = _report.build(entries, 'box "1"', "2026-12-03T18:00:00+00:00")
    report.update(extra)
    return report


def test_report_series_per_check_gpu_and_bound():
    text = P.report_textfile(a_report())
    families = parse(text)
    # A per-GPU check: the GPU moves out of the check name into a label.
    assert series(families, "vaultcube_validation_check_value", check="stress_gpu.tflops", gpu="1",
                  unit="TFLOP/s") == [12.5]
    assert series(families, "vaultcube_validation_check_threshold", check="stress_gpu.tflops", gpu="1",
                  bound="min") == [100.0]
    assert series(families, "vaultcube_validation_check_passed", check="stress_gpu.tflops", gpu="1") == [0.0]
    assert series(families, "vaultcube_validation_check_passed", check="stress_gpu.temperature", gpu="0") == [1.0]
    # An info check has a value and no passed series.
    assert series(families, "vaultcube_validation_check_value", check="stress_gpu.tflops", gpu="0") == [658.781]
    assert series(families, "vaultcube_validation_check_passed", check="stress_gpu.tflops", gpu="0") == []
    # A list value of a host-wide check: one series per GPU index.
    assert sorted(series(families, "vaultcube_validation_check_value", check="gpu_facts.ecc_errors")) == [0.0, 3.0]
    assert series(families, "vaultcube_validation_check_value", check="gpu_facts.ecc_errors", gpu="1") == [3.0]
    # Text values and non-numeric thresholds give no value series; the verdict is still there.
    assert series(families, "vaultcube_validation_check_value", check="gpu_facts.driver_version") == []
    assert series(families, "vaultcube_validation_check_threshold", check="gpu_facts.driver_version") == []
    assert series(families, "vaultcube_validation_check_passed", check="gpu_facts.driver_version") == [1.0]
    assert series(families, "vaultcube_validation_check_value", check="stress_gpu.clocks_events") == []
    assert series(families, "vaultcube_validation_check_threshold", check="stress_gpu.run", bound="duration") == [60.0]
    # A module that could not measure is an error: passed 0.
    assert series(families, "vaultcube_validation_check_passed", module="vllm_bench") == [0.0]
    assert families["vaultcube_validation_passed"] == {(("host", 'box "1"'),): 0.0}
    assert series(families, "vaultcube_validation_checks", status="skipped") == [1.0]
    assert series(families, "vaultcube_validation_checks", status="error") == [1.0]
    assert families["vaultcube_validation_last_run_timestamp_seconds"] == {(("host", 'box "1"'),): 1796320800.0}
    assert families["vaultcube_validation_interrupted"] == {(("host", 'box "1"'),): 0.0}
    assert 'host="box \\"1\\""' in text


def test_interrupted_report_says_so():
    families = parse(P.report_textfile(a_report(interrupted=True)))
    assert list(families["vaultcube_validation_interrupted"].values()) == [1.0]


def test_render_escapes_drops_duplicates_and_empty_families():
    text = P.render([
        ("a_metric", "gauge", "Help with a \\ backslash\nand a newline.",
         [({"l": 'x"y\\z\nw'}, 1), ({"l": 'x"y\\z\nw'}, 2), ({"l": "n"}, None), ({}, 0.5)]),
        ("empty_metric", "gauge", "Nothing.", [({"l": "n"}, None)]),
        ("inf_metric", "gauge", "Inf.", [({}, float("inf")), ({"x": "nan"}, float("nan"))]),
    ])
    assert text == ('# HELP a_metric Help with a \\\\ backslash\\nand a newline.\n# TYPE a_metric gauge\n'
                    'a_metric{l="x\\"y\\\\z\\nw"} 1\na_metric 0.5\n'
                    '# HELP inf_metric Inf.\n# TYPE inf_metric gauge\ninf_metric +Inf\n')
    parse(text)
    assert P.render([("e", "gauge", "h", [])]) == ""


@pytest.mark.parametrize("name,expected", [
    ("stress_gpu.gpu0.tflops", ("stress_gpu.tflops", "0")),
    ("stress_gpu.gpu12.worker", ("stress_gpu.worker", "12")),
    ("gpu_facts.count", ("gpu_facts.count", None)),
    ("gpu_bandwidth.gpu1", ("gpu_bandwidth", "1")),
    ("gpu_facts.gpus", ("gpu_facts.gpus", None)),
])
def test_split_check_name(name, expected):
    assert P.split_check_name(name) == expected


def test_unix_time():
    assert P.unix_time("1970-01-01T00:01:00+00:00") == 60
    assert P.unix_time("2026-12-03T19:00:00+01:00") == 1796320800
    assert P.unix_time("2026-12-03T18:00:00") is None      # no offset: not a moment
    assert P.unix_time("yesterday") is None


def test_write_atomically_leaves_no_temporary(tmp_path):
    path = tmp_path / "x.prom"
    P.write_atomically(str(path), "a 1\n")
    P.write_atomically(str(path), "a 2\n")
    assert path.read_text() == "a 2\n" and os.listdir(str(tmp_path)) == ["x.prom"]
    assert oct(os.stat(str(path)).st_mode & 0o777) == "0o644"


def test_write_atomically_unless_same_leaves_an_identical_file_alone(tmp_path):
    path = tmp_path / "r.json"
    assert P.write_atomically(str(path), b"{}", unless_same=True) is True
    os.utime(str(path), (1, 1))
    assert P.write_atomically(str(path), "{}", unless_same=True) is False and os.stat(str(path)).st_mtime == 1
    assert P.write_atomically(str(path), "[]", unless_same=True) is True and path.read_text() == "[]"


def test_report_renderer_is_registered_but_not_a_default():
    assert _report.RENDERERS["prometheus"] == ("prom", P.report_textfile)
    assert "prometheus" not in _report.DEFAULT_FORMATS


def test_gpu_textfile_from_the_monitor_sampler():
    gpu = M.GpuSampler(FakeNVML([h200(reasons=0x41, util=(97, 40)), rtx5090(uuid="b")]))
    snapshot = {"time": 1796320800.25, "gpus": gpu.sample(), "host": {}}
    families = parse(P.gpu_textfile(snapshot["gpus"], "box1", gpu.driver, gpu.cuda, None, snapshot["time"]))
    assert families["vaultcube_gpu_nvml_up"] == {(("host", "box1"),): 1.0}
    assert families["vaultcube_gpu_devices"] == {(("host", "box1"),): 2.0}
    row = snapshot["gpus"][0]
    assert series(families, "vaultcube_gpu_temperature_celsius", gpu="0") == [row["temperature_c"]]
    assert series(families, "vaultcube_gpu_power_watts", gpu="0") == [row["power_w"]]
    assert series(families, "vaultcube_gpu_power_limit_watts", gpu="0") == [700.0]
    assert series(families, "vaultcube_gpu_utilization_ratio", gpu="0") == [0.97]
    assert series(families, "vaultcube_gpu_memory_utilization_ratio", gpu="0") == [0.4]
    assert series(families, "vaultcube_gpu_sm_clock_hertz", gpu="0") == [row["sm_clock_mhz"] * 1e6]
    assert series(families, "vaultcube_gpu_memory_total_bytes", gpu="0") == [143771 * 1024 * 1024]
    assert series(families, "vaultcube_gpu_fan_speed_ratio", gpu="0") == []        # the H200 has no fan
    assert len(series(families, "vaultcube_gpu_fan_speed_ratio", gpu="1")) == 1
    assert sorted(k for key in families["vaultcube_gpu_clocks_event_active"] for k in key
                  if k[0] == "reason" and ("gpu", "0") in key) == [
        ("reason", r) for r in sorted(row["clocks_event_reasons"])]
    assert series(families, "vaultcube_gpu_info", gpu="1", name="NVIDIA GeForce RTX 5090") == [1.0]
    assert families["vaultcube_gpu_last_sample_timestamp_seconds"] == {(("host", "box1"),): 1796320800.25}


def test_gpu_textfile_without_nvml():
    families = parse(P.gpu_textfile([], "box1", reason="the NVML binding (nvidia-ml-py) is not installed",
                                    timestamp=1.0))
    assert families["vaultcube_gpu_nvml_up"] == {(("host", "box1"),): 0.0}
    assert families["vaultcube_gpu_devices"] == {(("host", "box1"),): 0.0}
    assert "vaultcube_gpu_temperature_celsius" not in families


def test_monitor_writes_the_textfile_each_sample(tmp_path):
    path = tmp_path / "vaultcube_gpu.prom"
    monitor = M.Monitor(M.GpuSampler(FakeNVML([h200()])), clock=lambda: 1796320800.0)
    args = M.parse_args(["--count", "2", "--interval", "0.1", "--no-screen", "--prometheus", str(path)])
    assert M.run(args, monitor, out=io.StringIO(), sleep=lambda s: None) == 2
    families = parse(path.read_text())
    assert len(families["vaultcube_gpu_temperature_celsius"]) == 1
    assert os.listdir(str(tmp_path)) == ["vaultcube_gpu.prom"]


def test_monitor_prometheus_without_nvml_and_bad_paths(tmp_path, capsys):
    path = tmp_path / "g.prom"
    monitor = M.Monitor(M.GpuSampler(None))
    args = M.parse_args(["--count", "1", "--no-screen", "--prometheus", str(path)])
    assert M.run(args, monitor, out=io.StringIO(), sleep=lambda s: None) == 1
    assert "vaultcube_gpu_nvml_up{host=" in path.read_text() and " 0\n" in path.read_text()
    with pytest.raises(SystemExit) as exc:
        M.run(M.parse_args(["--prometheus", str(tmp_path / "nope" / "g.prom")]), monitor, sleep=lambda s: None)
    assert str(exc.value) == "vaultcube-monitor: cannot write %s: the directory %s does not exist." % (
        tmp_path / "nope" / "g.prom", tmp_path / "nope")
    with pytest.raises(SystemExit):
        M.parse_args(["--prometheus", str(tmp_path / "g.txt")])
    assert "the file name must end in .prom" in capsys.readouterr().err
