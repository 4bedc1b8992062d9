# -*- coding: utf-8 -*-
import os
import sys
import time
import types

import pytest
from fake_nvml import FakeNVML, NVMLError, h200, rtx5090

from ansible_collections.vaultcube.demobox.plugins.module_utils import _nvml


@pytest.mark.parametrize("mask,names", [
    (0, []),
    (0x1, ["gpu_idle"]),
    (0x4 | 0x40, ["sw_power_cap", "hw_thermal_slowdown"]),
    (0x80, ["hw_power_brake_slowdown"]),
    (0x1 | 0x1000, ["gpu_idle", "unknown_0x1000"]),
    (None, None),
])
def test_decode_clock_event_reasons(mask, names):
    assert _nvml.decode_clock_event_reasons(mask) == names


def test_every_reason_bit_has_a_distinct_name():
    bits = [pair[0] for pair in _nvml.CLOCK_EVENT_REASONS]
    names = [pair[1] for pair in _nvml.CLOCK_EVENT_REASONS]
    assert len(set(bits)) == len(bits) == len(set(names))
    assert all(bit & (bit - 1) == 0 for bit in bits)


def test_cuda_version_text():
    assert _nvml.cuda_version_text(13000) == "13.0"
    assert _nvml.cuda_version_text(12080) == "12.8"
    assert _nvml.cuda_version_text(0) is None


def test_inventory_of_two_rtx5090():
    fake = FakeNVML([rtx5090(), rtx5090(uuid="GPU-5090-1", bus_id="00000000:02:00.0", pcie_width=8)])
    inv = _nvml.inventory(fake)
    assert inv["count"] == 2
    assert inv["reason"] is None
    assert inv["system"] == {"driver_version": "580.95.05", "cuda_driver_version": "13.0",
                             "nvml_version": "13.580.95.05", "binding_version": None}
    gpu0, gpu1 = inv["gpus"]
    assert gpu0["name"] == "NVIDIA GeForce RTX 5090"
    assert gpu0["architecture"] == "blackwell"
    assert gpu0["compute_capability"] == "12.0"
    assert gpu0["memory_total_mib"] == 32607
    assert gpu0["power_limit_w"] == 575.0
    assert gpu0["power_limit_max_w"] == 600.0
    assert gpu0["clocks"] == {"sm_mhz": 210, "sm_max_mhz": 3090, "memory_mhz": 405, "memory_max_mhz": 14001}
    assert gpu0["clocks_event_reasons"] == ["gpu_idle"]
    assert gpu0["persistence_mode"] is True
    # GeForce: no ECC, no NVLink -> null, never an error
    assert gpu0["ecc"]["supported"] is False and gpu0["ecc"]["volatile_uncorrected"] is None
    assert gpu0["nvlink_active_links"] is None
    # gen 1 at idle with gen 5 possible is normal power saving, not a degraded link
    assert gpu0["pcie"]["below_max"] is False
    assert gpu1["pcie"]["below_max"] is True
    assert inv["interconnect"]["pairs"] == [{"gpus": [0, 1], "link": "NODE", "pcie_path": "NODE"}]
    assert fake.shutdowns == 1


def test_inventory_h200_with_ecc_and_nvlink():
    fake = FakeNVML([h200(), h200(uuid="GPU-H200-1")], topology=50)
    inv = _nvml.inventory(fake)
    gpu = inv["gpus"][0]
    assert gpu["ecc"] == {"supported": True, "enabled": True, "pending": True, "volatile_corrected": 0,
                          "volatile_uncorrected": 0, "aggregate_corrected": 3, "aggregate_uncorrected": 0}
    assert gpu["nvlink_active_links"] == 18
    assert gpu["fan_speed_percent"] is None
    assert gpu["serial"] == "1650124000001"
    assert inv["interconnect"]["pairs"][0]["link"] == "NVLink"
    assert inv["interconnect"]["pairs"][0]["pcie_path"] == "SYS"


def test_unsupported_values_are_none_and_listed():
    gpu = rtx5090()
    for key in ("temperature", "power", "pcie_gen_gpu_max", "reasons", "cc"):
        gpu[key] = None
    inv = _nvml.inventory(FakeNVML([gpu]))
    info = inv["gpus"][0]
    assert info["temperature_c"] is None and info["power_draw_w"] is None
    assert info["compute_capability"] is None and info["clocks_event_reasons"] is None
    assert "nvmlDeviceGetTemperature" in inv["unsupported_queries"]


@pytest.mark.parametrize("code,words", [
    (12, "libnvidia-ml.so.1) was not found"),
    (9, "kernel driver is not loaded"),
    (4, "no permission"),
    (999, "could not be initialised"),
])
def test_init_failures_are_a_reason_not_an_exception(code, words):
    inv = _nvml.inventory(FakeNVML(init_error=code))
    assert inv["count"] == 0 and inv["gpus"] == []
    assert words in inv["reason"]


def test_driver_with_no_gpu():
    inv = _nvml.inventory(FakeNVML([]))
    assert inv["count"] == 0
    assert "reports no GPU" in inv["reason"]


def test_unexpected_nvml_error_propagates_and_still_shuts_down():
    class Broken(FakeNVML):
        def nvmlDeviceGetName(self, h):
            raise NVMLError(999)
    fake = Broken([rtx5090()])
    with pytest.raises(NVMLError):
        _nvml.inventory(fake)
    assert fake.shutdowns == 1


def test_missing_binding_function_reads_none():
    class Old(FakeNVML):
        nvmlDeviceGetCurrentClocksEventReasons = None

        def nvmlDeviceGetCurrentClocksThrottleReasons(self, h):
            return 0x4
    fake = Old([rtx5090()])
    # an attribute that is None counts as absent: the older name is used instead
    info = _nvml.inventory(fake)["gpus"][0]
    assert info["clocks_event_reasons"] == ["sw_power_cap"]


def test_telemetry_sample():
    fake = FakeNVML([rtx5090(util=(97, 40), reasons=0x4, temperature=71, power=560000)])
    row = _nvml.telemetry_sample(_nvml.Reader(fake), 0, 0)
    assert row["gpu"] == 0 and row["temperature_c"] == 71 and row["power_w"] == 560.0
    assert row["utilization_gpu_percent"] == 97 and row["clocks_event_reasons"] == ["sw_power_cap"]


def test_load_binding_from_search_path(tmp_path, monkeypatch):
    site = tmp_path / "venv" / "lib" / "python3.12" / "site-packages"
    site.mkdir(parents=True)
    (site / "pynvml.py").write_text("MARK = 'from-venv'\n")
    monkeypatch.setitem(sys.modules, "pynvml", None)  # "not installed" for this interpreter
    mod, reason = _nvml.load_binding([str(tmp_path / "nothing-here*")])
    assert mod is None and "nvidia-ml-py" in reason
    monkeypatch.delitem(sys.modules, "pynvml")
    monkeypatch.setattr(sys, "path", [p for p in sys.path if not os.path.exists(os.path.join(p, "pynvml.py"))])
    mod, reason = _nvml.load_binding([str(tmp_path / "venv" / "lib" / "python3*" / "site-packages")])
    assert reason is None and mod.MARK == "from-venv"
    sys.modules.pop("pynvml", None)


def test_load_binding_prefers_installed(monkeypatch):
    fake = types.ModuleType("pynvml")
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    assert _nvml.load_binding([]) == (fake, None)


def test_telemetry_sampler_reads_every_gpu_and_summarises_a_window():
    fake = FakeNVML([h200(util=(90, 40), temperature=60, power=600000),
                     h200(uuid="GPU-H200-1", bus_id="00000000:02:00.0", util=(70, 30), temperature=66)])
    sampler = _nvml.TelemetrySampler(fake, interval=0)
    assert sampler.open() is None
    assert [d["uuid"] for d in sampler.devices] == ["GPU-H200-0", "GPU-H200-1"]
    assert sampler.devices[1]["pci_bus_id"] == "00000000:02:00.0"
    before = time.time()
    sampler.tick()
    fake.gpus[0]["util"] = (100, 50)
    sampler.tick()
    after = time.time()
    assert len(sampler.rows) == 4 and sampler.rows[0][1:] == (0, 90, 15, 60, 600.0)
    both = sampler.window(before, after)
    assert both[0] == {"samples": 2, "utilization_mean_percent": 95.0, "utilization_min_percent": 90,
                       "utilization_max_percent": 100, "memory_used_max_mib": 15, "temperature_max_c": 60,
                       "power_mean_w": 600.0}
    assert both[1]["utilization_mean_percent"] == 70.0 and both[1]["temperature_max_c"] == 66
    assert list(sampler.window(before, after, gpus={1})) == [1]
    assert sampler.window(after + 1, after + 2) == {}
    assert sampler.interconnect()["pairs"][0]["link"] == "NVLink"
    sampler.close()
    assert fake.shutdowns == 1
    sampler.tick()  # closed: no more rows
    assert len(sampler.rows) == 4


def test_telemetry_sampler_keeps_its_interval():
    sampler = _nvml.TelemetrySampler(FakeNVML([h200()]), interval=60)
    sampler.open()
    sampler.tick()
    sampler.tick()
    assert len(sampler.rows) == 1


def test_telemetry_sampler_without_nvml_says_why():
    assert _nvml.TelemetrySampler(None).open() == "the NVML binding is not available"
    sampler = _nvml.TelemetrySampler(FakeNVML(init_error=12))
    assert "libnvidia-ml.so.1) was not found" in sampler.open()
    sampler.tick()
    assert sampler.rows == [] and sampler.interconnect() is None
    assert _nvml.TelemetrySampler(FakeNVML([])).open() == "the NVIDIA driver reports no GPU"


def test_window_utilisation_skips_readings_that_straddle_the_window_start():
    sampler = _nvml.TelemetrySampler(None, interval=0)
    # (time, gpu, utilisation, memory MiB, temperature C, power W): the first reading of the
    # window (t=10.2) still covers the idle set-up before it
    sampler.rows = [(9.5, 0, 5, 100, 40, 90.0), (10.2, 0, 40, 900, 45, 300.0), (10.8, 0, 70, 900, 47, 500.0),
                    (11.3, 0, 98, 950, 50, 650.0), (12.0, 0, 100, 950, 52, 660.0)]
    plain = sampler.window(10.0, 12.0)[0]
    settled = sampler.window(10.0, 12.0, util_settle=1.0)[0]
    assert plain["utilization_mean_percent"] == 77.0 and plain["samples"] == 4
    assert (settled["utilization_mean_percent"], settled["utilization_min_percent"]) == (99.0, 98)
    # memory, temperature and power still come from every reading in the window
    assert (settled["memory_used_max_mib"], settled["power_mean_w"], settled["samples"]) == (950, 527.5, 4)
    # a window shorter than the settling time keeps all of its readings
    assert sampler.window(10.0, 10.9, util_settle=1.0)[0]["utilization_mean_percent"] == 55.0
