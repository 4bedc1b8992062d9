# -*- coding: utf-8 -*-
"""_nvml.health_counters and _nvml.XidWatcher (stress_gpu's sampler), NVML replaced by fake_nvml."""
from fake_nvml import NVML_ERROR_NO_PERMISSION, FakeNVML, NVMLError, h200, rtx5090

from ansible_collections.vaultcube.demobox.plugins.module_utils import _nvml


def test_health_counters_of_an_h200_with_ecc_and_violation_counters():
    fake = FakeNVML([h200(ecc_counts={(0, 0): 4, (1, 0): 1, (0, 1): 9, (1, 1): 2},
                          violation={0: 2500000000, 1: 0}, pcie_replay=7)])
    counters = _nvml.health_counters(_nvml.Reader(fake), 0)
    assert counters == {"ecc_enabled": True, "ecc_corrected_volatile": 4, "ecc_uncorrected_volatile": 1,
                        "pcie_replay_counter": 7, "power_violation_s": 2.5, "thermal_violation_s": 0.0}


def test_health_counters_of_a_geforce_without_ecc_read_none():
    counters = _nvml.health_counters(_nvml.Reader(FakeNVML([rtx5090()])), 0)
    assert counters["ecc_enabled"] is None
    assert counters["ecc_uncorrected_volatile"] is None and counters["ecc_corrected_volatile"] is None
    assert counters["power_violation_s"] is None and counters["thermal_violation_s"] is None
    assert counters["pcie_replay_counter"] == 0


def test_health_counters_with_ecc_disabled():
    counters = _nvml.health_counters(_nvml.Reader(FakeNVML([h200(ecc=(0, 0))])), 0)
    assert counters["ecc_enabled"] is False and counters["ecc_uncorrected_volatile"] is None


def test_xid_watcher_collects_events_per_gpu_and_frees_the_set():
    fake = FakeNVML([h200(events=0x8 | 0x1), h200(uuid="GPU-1", events=0x8)])
    watcher = _nvml.XidWatcher(fake, [(0, 0), (1, 1)])
    assert watcher.supported == {0: True, 1: True} and watcher.reason is None
    assert [(h, k) for h, k, _s in fake.registered] == [(0, 0x8), (1, 0x8)]
    assert watcher.poll() == []
    fake.queue_xid(1, 79)
    fake.queue_xid(0, 48)
    events = watcher.poll()
    assert [(e["gpu"], e["xid"]) for e in events] == [(1, 79), (0, 48)]
    assert watcher.poll() == []
    watcher.close()
    assert fake.event_sets_freed == 1


def test_xid_watcher_where_the_gpu_offers_no_xid_events():
    fake = FakeNVML([rtx5090(events=0x1)])
    watcher = _nvml.XidWatcher(fake, [(0, 0)])
    assert watcher.supported == {0: False}
    assert watcher.reason == "the driver offers no XID events for these GPUs"
    fake.queue_xid(0, 13)
    assert watcher.poll() == []  # not watched, so not read


def test_xid_watcher_when_registration_is_refused():
    fake = FakeNVML([h200(events=0x8)])

    def refuse(handle, kinds, event_set):
        raise NVMLError(NVML_ERROR_NO_PERMISSION)
    fake.nvmlDeviceRegisterEvents = refuse
    watcher = _nvml.XidWatcher(fake, [(0, 0)])
    assert watcher.supported == {0: False}
    assert watcher.reason.startswith("NVML refused to register XID events")


def test_xid_watcher_without_the_event_api():
    class Old(FakeNVML):
        nvmlEventSetCreate = None
    watcher = _nvml.XidWatcher(Old([h200()]), [(0, 0)])
    assert watcher.reason == "this nvidia-ml-py has no NVML event API" and watcher.poll() == []
    watcher.close()


def test_xid_watcher_reports_a_failing_wait_as_an_error_event():
    fake = FakeNVML([h200(events=0x8)])
    watcher = _nvml.XidWatcher(fake, [(0, 0)])

    def broken(event_set, timeout):
        raise NVMLError(999)
    fake.nvmlEventSetWait_v2 = broken
    events = watcher.poll()
    assert len(events) == 1 and events[0]["xid"] is None and "NVML event wait failed" in events[0]["error"]


def test_a_lost_gpu_raises_from_telemetry_so_the_sampler_can_report_it():
    fake = FakeNVML([h200(lost=True)])
    reader = _nvml.Reader(fake)
    try:
        _nvml.telemetry_sample(reader, 0, 0)
    except NVMLError as exc:
        assert exc.value == 15
    else:
        raise AssertionError("a lost GPU must not read as a normal sample")
