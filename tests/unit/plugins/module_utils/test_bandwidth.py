# -*- coding: utf-8 -*-
"""gpu_bandwidth's pure logic: limits from NVML facts (NVML faked at the boundary), busbw as
nccl-tests defines it, thresholds, judging, the hang and wrong-data sentences, the slowest path,
and the report's pointer from a failed DDP scaling check to it."""

import pytest
from fake_nvml import FakeNVML, h200, rtx5090

from ansible_collections.vaultcube.demobox.plugins.module_utils import _bandwidth as B
from ansible_collections.vaultcube.demobox.plugins.module_utils import _bandwidth_worker as W
from ansible_collections.vaultcube.demobox.plugins.module_utils import _nvml, _report
from ansible_collections.vaultcube.demobox.plugins.plugin_utils import _report_render

H200_FACTS = dict(bus_width=6144, mem_max=3201, numa=0, affinity=[0xFFFF, 0], nvlinks=18, nvlink_speed=26562)


def test_limits_from_nvml_facts_of_two_h200s_joined_by_nvlink():
    fake = FakeNVML([h200(**H200_FACTS), h200(uuid="GPU-H200-1", bus_id="00000000:02:00.0", **H200_FACTS)])
    inv = _nvml.inventory(fake, with_paths=True)
    lim = B.limits(inv)
    gpu = lim["gpus"][0]
    # gen5 x16: 32 GT/s x 128/130 / 8 bits x 16 lanes; HBM: 2 x 3201 MHz x 6144 bits / 8
    assert gpu["pcie_gbps"] == 63.02 and gpu["pcie_link"] == "gen5 x16"
    assert gpu["memory_gbps"] == 4916.7 and gpu["memory_bus"] == "6144-bit at 3201 MHz"
    assert gpu["nvlink_gbps"] == 478.1  # 18 links x NVML's 26562 MB/s
    assert lim["pairs"]["0-1"]["gbps"] == 478.1 and lim["pairs"]["0-1"]["path"] == "NVLink x18"
    assert lim["pairs"]["0-1"]["p2p"] == {"read": "ok", "write": "ok", "nvlink": "ok"}
    assert lim["collective_gbps"] == 478.1
    paths = inv["gpus"][0]["paths"]
    assert paths["numa_node"] == 0 and paths["cpu_affinity"] == "0-15"


def test_nvlink_speed_falls_back_to_the_architecture():
    assert B.nvlink_limit(18, None, "hopper") == 450.0
    assert B.nvlink_limit(18, None, "blackwell") == 900.0
    assert B.nvlink_limit(None, None, "hopper") is None
    assert B.nvlink_limit(4, None, "turing") is None


def test_pcie_only_box_takes_the_slower_link_and_reports_p2p_status():
    slow = rtx5090(uuid="GPU-5090-1", bus_id="00000000:02:00.0", pcie_gen_max=4, pcie_width_max=8, bus_width=512)
    fake = FakeNVML([rtx5090(bus_width=512), slow], p2p=1, topology=30)
    inv = _nvml.inventory(fake, with_paths=True)
    lim = B.limits(inv)
    assert lim["gpus"][0]["memory_gbps"] == 1792.1  # GDDR7: 2 x 14001 MHz x 512 bits / 8
    assert lim["pairs"]["0-1"] == {"gbps": 15.75, "path": "PCIe gen4 x8", "link": "PHB",
                                   "p2p": {"read": "chipset_not_supported", "write": "chipset_not_supported",
                                           "nvlink": "chipset_not_supported"}}
    assert inv["gpus"][1]["pcie"]["below_max"] is True


def test_pcie_generations():
    assert B.pcie_limit(3, 16) == 15.75
    assert B.pcie_limit(6, 16) == 121.0
    assert B.pcie_limit(None, 16) is None and B.pcie_limit(7, 16) is None
    assert B.memory_limit(None, 3201) is None


def test_cpu_list():
    assert _nvml.cpu_list([0b1011]) == "0-1,3"
    assert _nvml.cpu_list([0, 0b11]) == "64-65"
    assert _nvml.cpu_list([0]) is None


@pytest.mark.parametrize("op,world,factor", [
    ("all_reduce", 2, 1.0), ("all_reduce", 4, 1.5), ("all_reduce", 8, 1.75),
    ("all_gather", 2, 0.5), ("all_gather", 4, 0.75), ("reduce_scatter", 8, 0.875),
])
def test_busbw_is_nccl_tests_definition(op, world, factor):
    alg, bus = B.busbw(op, 4e9, 0.1, world)
    assert alg == 40.0 and bus == pytest.approx(40.0 * factor)


def test_element_counts_follow_nccl_tests_sizes():
    assert W.element_counts("all_reduce", 1024, 4) == (256, 256, 1024)
    assert W.element_counts("all_gather", 1024, 4) == (64, 256, 1024)
    assert W.element_counts("reduce_scatter", 1024, 4) == (256, 64, 1024)
    # at least one element per rank: 4 bytes over 2 ranks becomes 8
    assert W.element_counts("all_gather", 4, 2) == (1, 2, 8)
    assert W.check_modulus(2) == 65521 and W.check_modulus(1024) * 1024 + 1024 * 1024 // 2 < 2 ** 24


@pytest.mark.parametrize("value,parsed", [
    ("80%", {"percent": 80.0}), (" 72.5 % ", {"percent": 72.5}), (40, {"gbps": 40.0}), ("40", {"gbps": 40.0}),
    (None, None), ("None", None), ("", None),
])
def test_parse_threshold(value, parsed):
    assert B.parse_threshold("min_h2d", value) == parsed


@pytest.mark.parametrize("value,sentence", [
    ("150%", "min_h2d as a share of the limit must be above 0% and at most 100%, got '150%'."),
    ("fast", "min_h2d must be a bandwidth in GB/s (e.g. 40) or a share of the path's limit (e.g. '80%'), got 'fast'."),
    (0, "min_h2d must be more than 0 GB/s, got 0."),
    (True, "min_h2d must be a bandwidth in GB/s (e.g. 40) or a share of the path's limit (e.g. '80%'), got True."),
])
def test_parse_threshold_refuses(value, sentence):
    with pytest.raises(ValueError) as err:
        B.parse_threshold("min_h2d", value)
    assert str(err.value) == sentence


def test_sweeps():
    quick = B.plan({"sweep": "quick"})
    assert quick["copy_sizes"][0] == 4096 and quick["copy_sizes"][-1] == 256 << 20 and len(quick["copy_sizes"]) == 9
    assert quick["collective_sizes"][0] == 4 and quick["collective_sizes"][-1] == 1 << 30
    full = B.plan({"sweep": "full", "collective_max_bytes": 3000})
    assert full["copy_sizes"][-1] == 1 << 30 and full["collective_sizes"][-2:] == [2048, 3000]
    assert B.sizes(4, 4, 4) == [4]
    cfg = B.collectives_config(quick, "cpu", "gloo", 60)
    assert cfg["max_iters"] == B.CPU_MAX_ITERS and cfg["ops"] == list(B.OPS)


def copy_records():
    recs = [{"type": "gpu", "gpu": 0, "name": "NVIDIA H200", "uuid": "u0"}]
    for size, secs in ((1 << 20, 40e-6), (256 << 20, 5e-3)):
        recs += [{"type": "copy", "gpu": 0, "kind": "h2d", "memory": "pinned", "bytes": size, "seconds": secs},
                 {"type": "copy", "gpu": 0, "kind": "d2h", "memory": "pinned", "bytes": size, "seconds": secs * 1.1},
                 {"type": "copy", "gpu": 0, "kind": "device_copy", "memory": "device", "bytes": size, "seconds": secs / 80}]
    recs += [{"type": "copy", "gpu": 0, "kind": "h2d", "memory": "pageable", "bytes": 256 << 20, "seconds": 0.02},
             {"type": "latency", "gpu": 0, "kind": "h2d", "bytes": 4, "seconds": 9e-6},
             {"type": "latency", "gpu": 0, "kind": "d2h", "bytes": 4, "seconds": 11e-6}, {"type": "end"}]
    return recs


LIMITS = {0: {"pcie_gbps": 63.02, "pcie_link": "gen5 x16", "memory_gbps": 4917.1}}


def test_copies_analysed_and_judged_against_shares_of_the_limit():
    copies = B.analyse_copies(copy_records(), LIMITS)
    g = copies["gpus"][0]
    size = 256 << 20
    assert g["h2d_gbps"] == B.significant(size / 5e-3 / 1e9) == 53.69
    assert g["device_copy_gbps"] == B.significant(2 * size * 80 / 5e-3 / 1e9)  # read + write
    assert g["h2d_percent"] == 85.2 and g["latency_us"] == {"h2d": 9.0, "d2h": 11.0} and g["complete"]
    checks = {c["name"]: c for c in B.gpu_checks(copies, {"min_h2d": {"percent": 80.0}, "min_d2h": {"percent": 90.0},
                                                          "min_device_copy": {"gbps": 5000.0},
                                                          "max_copy_latency_us": 10.0})}
    h2d = checks["gpu_bandwidth.gpu0.h2d"]
    assert h2d["status"] == "passed" and h2d["threshold"] == {"min": 50.416}
    assert h2d["message"] == ("Host-to-device copy bandwidth (pinned at 256 MiB) of GPU 0 (NVIDIA H200) is 53.7 GB/s "
                              "(85.2% of the PCIe gen5 x16 limit of 63 GB/s), at or above the minimum of 80% of the "
                              "limit (50.4 GB/s).")
    assert checks["gpu_bandwidth.gpu0.d2h"]["status"] == "failed"
    assert checks["gpu_bandwidth.gpu0.device_copy"]["status"] == "passed"
    assert checks["gpu_bandwidth.gpu0.copy_latency"]["status"] == "failed"
    assert checks["gpu_bandwidth.gpu0.copy_latency"]["value"] == 11.0


def test_share_of_an_unknown_limit_is_not_judged():
    check = B._bandwidth_check("x", "Bandwidth", 10.0, None, "PCIe", {"percent": 80.0}, "GPU 0")
    assert check["status"] == "skipped" and "cannot be judged without a limit" in check["message"]
    assert B._bandwidth_check("x", "Bandwidth", None, 63.0, "PCIe", None, "GPU 0")["status"] == "skipped"


def pair_records(peer=True):
    recs = [{"type": "pair", "gpus": [0, 1], "peer_access": peer}]
    if peer:
        recs += [{"type": "p2p", "gpus": [0, 1], "mode": "peer", "bytes": 1 << 30, "seconds": 1 / 360.0},
                 {"type": "p2p", "gpus": [1, 0], "mode": "peer", "bytes": 1 << 30, "seconds": 1 / 380.0},
                 {"type": "p2p", "gpus": [0, 1], "mode": "bidirectional", "bytes": 1 << 30, "seconds": 2 / 700.0}]
    recs += [{"type": "p2p", "gpus": [0, 1], "mode": "no_peer", "bytes": 1 << 30, "seconds": 1 / 20.0},
             {"type": "p2p", "gpus": [1, 0], "mode": "no_peer", "bytes": 1 << 30, "seconds": 1 / 21.0}]
    return recs


def test_pairs_peer_on_and_off():
    copies = B.analyse_copies(pair_records(), {})
    pair = copies["pairs"][0]
    assert pair["peer_gbps"] == B.significant((1 << 30) * 360 / 1e9)
    assert pair["no_peer_gbps"] == B.significant((1 << 30) * 20 / 1e9)
    assert pair["p2p_gain"] == 18.0
    pair_limits = {"0-1": {"gbps": 478.1, "path": "NVLink x18"}}
    check = B.pair_checks(copies, pair_limits, {"percent": 70.0})[0]
    assert check["name"] == "gpu_bandwidth.pair0_1.p2p" and check["status"] == "passed"
    assert "x18 with peer access off" not in check["message"] and "P2P gives x18" in check["message"]
    table = B.copy_tables(copies)[0]
    assert table["rows"] == [["GPU 0", "X", "386.5 / 21.5"], ["GPU 1", "408 / 22.6", "X"]]


def test_pair_without_peer_access_is_judged_on_the_staged_copy():
    copies = B.analyse_copies(pair_records(peer=False), {})
    lim = {"0-1": {"gbps": 63.02, "path": "PCIe gen5 x16", "p2p": {"read": "chipset_not_supported", "write": "ok"}}}
    check = B.pair_checks(copies, lim, {"gbps": 30.0})[0]
    assert check["status"] == "failed"
    assert check["message"].startswith("Peer access is not possible (NVML: read chipset_not_supported), so copies are "
                                       "staged through host memory; copy bandwidth (slower way) of GPUs 0 and 1 is 21.5 GB/s")
    slowest = B.slowest_path(copies, lim)
    assert slowest["sentence"] == ("the slowest path gpu_bandwidth measured is GPU 0 <-> GPU 1 (no peer access: staged "
                                   "through host memory) at 21.5 GB/s (34.1% of its PCIe gen5 x16 limit of 63 GB/s)")


def test_slowest_path_on_one_gpu_is_the_host_link():
    copies = B.analyse_copies(copy_records(), LIMITS)
    assert B.slowest_path(copies, {})["path"] == "GPU 0 -> host"
    assert B.slowest_path({"gpus": [], "pairs": []}, {}) is None


def rank_result(rank, wrong=0):
    records = []
    for op in B.OPS:
        for size, secs in ((4, 20e-6), (1 << 30, 6e-3)):
            check = {"elements": size // 4, "mismatches": 0, "first_index": None, "expected": None, "got": None}
            if wrong and op == "all_gather" and size == 4:
                check.update({"mismatches": wrong, "first_index": 1, "expected": 2.0, "got": 3.0})
            records.append({"op": op, "bytes": size, "requested_bytes": size, "iters": 10,
                            "seconds": secs * (1.1 if rank else 1.0), "check": check})
    return {"info": {"rank": rank}, "records": records}


def test_collectives_take_the_slowest_rank_and_judge_exactness():
    coll = B.analyse_collectives([rank_result(0), rank_result(1, wrong=1)], 2)
    big = coll["all_reduce"][-1]
    assert big["seconds"] == pytest.approx(6.6e-3) and big["ranks"] == [0, 1]
    assert big["algbw_gbps"] == B.significant((1 << 30) / 6.6e-3 / 1e9) and big["busbw_gbps"] == big["algbw_gbps"]
    assert coll["all_gather"][-1]["busbw_gbps"] == B.significant(coll["all_gather"][-1]["algbw_gbps"] / 2)
    checks = {c["name"]: c for c in B.collective_checks(coll, 2, {"min_busbw": {"percent": 50.0}}, 478.1)}
    assert checks["gpu_bandwidth.all_reduce.check"]["status"] == "passed"
    wrong = checks["gpu_bandwidth.all_gather.check"]
    assert wrong["status"] == "failed" and wrong["message"] == (
        "all_gather returned wrong data at 1 of 2 sizes: 4 B: 1 of 1 elements wrong on rank 1 (first at element 1 on "
        "rank 1: expected 2, got 3).")
    assert checks["gpu_bandwidth.all_reduce.busbw"]["status"] == "failed"  # 162.7 GB/s < 50 % of 478.1
    assert checks["gpu_bandwidth.all_gather.busbw"]["status"] == "info"
    assert checks["gpu_bandwidth.all_reduce.latency"]["value"] == 22.0
    cpu = {c["name"]: c for c in B.collective_checks(coll, 2, {"min_busbw": {"gbps": 1000.0}}, None, cpu=True)}
    assert cpu["gpu_bandwidth.all_reduce.busbw"]["status"] == "info"
    assert B.collective_checks({}, 2, {}, None)[0]["status"] == "skipped"


def test_hang_sentence_names_collective_size_and_ranks():
    progress = {
        0: [{"event": "ready"}, {"event": "enter", "op": "all_reduce", "bytes": 1024, "t": 5.0}],
        1: [{"event": "ready"}, {"event": "enter", "op": "all_reduce", "bytes": 256, "t": 1.0},
            {"event": "done", "op": "all_reduce", "bytes": 256, "t": 2.0}],
    }
    assert B.hang_sentence(progress, [0, 1, 2], 60) == (
        "all_reduce of 1 KiB did not complete within the timeout of 60 s: rank 0 entered it and waited; ranks 1, 2 "
        "never reached it (rank 1 last completed all_reduce of 256 B; rank 2 never started).")
    both = {0: [{"event": "enter", "op": "all_gather", "bytes": 1 << 30, "t": 1}],
            1: [{"event": "enter", "op": "all_gather", "bytes": 1 << 30, "t": 2}]}
    assert B.hang_sentence(both, [0, 1], 60) == (
        "all_gather of 1 GiB did not complete within the timeout of 60 s: ranks 0, 1 entered it and waited.")
    assert B.hang_sentence({}, [0, 1], 60).startswith("The collectives did not start within the timeout of 60 s")
    done = {0: [{"event": "ready"}], 1: [{"event": "done", "op": "reduce_scatter", "bytes": 8, "t": 1}]}
    assert B.hang_sentence(done, [0, 1], 9) == (
        "The collectives did not finish within the timeout of 9 s; the last steps of the ranks were: rank 0 had set up "
        "its process group and not started a collective; rank 1 last completed reduce_scatter of 8 B.")


def test_fault_spec():
    expected = {"kind": "stall", "rank": 1, "op": "all_reduce", "bytes": 4096}
    assert W.parse_fault("stall,rank=1,op=all_reduce,bytes=4096") == expected
    assert W.parse_fault("") is None
    assert W.iterations(1 << 30, 4 << 30, 5, 200) == 5 and W.iterations(4, 4 << 30, 5, 200) == 200
    assert W.median([3, 1, 2]) == 2 and W.median([1, 2, 3, 4]) == 2.5


def test_report_points_a_failed_scaling_check_at_the_slowest_path():
    slowest = {"sentence": "the slowest path gpu_bandwidth measured is GPU 0 <-> GPU 1 at 12 GB/s"}
    scaling = {"name": "ddp_benchmark.scaling_efficiency", "status": "failed", "value": 61.0, "threshold": {"min": 80},
               "unit": "%", "message": "Scaling efficiency at 4 GPUs is 61%, below the minimum of 80%."}
    info = {"name": "gpu_bandwidth.pair0_1.p2p", "status": "info", "value": 12.0, "threshold": None, "unit": "GB/s",
            "message": "12 GB/s."}
    entries = [{"module": "gpu_bandwidth", "result": {"checks": [info], "metrics": {"slowest_path": slowest}}},
               {"module": "ddp_benchmark", "result": {"checks": [scaling], "metrics": {}}}]
    report = _report.build(entries, "box", "now")
    assert report["failures"] == ["Scaling efficiency at 4 GPUs is 61%, below the minimum of 80%. Where to look: The "
                                  "slowest path gpu_bandwidth measured is GPU 0 <-> GPU 1 at 12 GB/s."]
    passed = dict(scaling, status="passed")
    entries[1]["result"]["checks"] = [passed]
    assert _report.build(entries, "box", "now")["checks"][1]["message"] == scaling["message"]


def test_report_material():
    copies = B.analyse_copies(copy_records() + pair_records(), LIMITS)
    coll = B.analyse_collectives([rank_result(0), rank_result(1)], 2)
    plots = B.plots(copies, coll, "cuda")
    assert [p["title"] for p in plots] == [
        "gpu_bandwidth: bus bandwidth vs message size", "gpu_bandwidth: host <-> GPU copy bandwidth per GPU",
        "gpu_bandwidth: host <-> GPU copy bandwidth vs size", "gpu_bandwidth: GPU-to-GPU copy bandwidth (slower way)"]
    assert plots[0]["series"]["all_reduce"][-1][0] == 30.0
    draw = _report_render.template_env().get_template("_macros.html.j2").module.plot
    for plot in plots:  # the report renders every one (bar charts have labels, not numbers, on x)
        svg = str(draw(plot))
        assert "<svg" in svg and "no data" not in svg and not _report.plot_layout(plot)["empty"]
    assert "<title>peer access on 0-1: 386.50</title>" in str(draw(plots[3]))
    table = B.collective_table(coll, 2, "cuda")
    assert len(table["rows"]) == 6 and table["rows"][0][:3] == ["all_reduce", 4, "4 B"]
    fake = FakeNVML([h200(**H200_FACTS), h200(uuid="GPU-H200-1", **H200_FACTS)])
    inv = _nvml.inventory(fake, with_paths=True)
    topo = B.topology_tables(inv, B.limits(inv))
    assert topo[0]["rows"][0][2:8] == [0, "0-15", "gen1 x16", "gen5 x16", "no", 63.02]
    assert topo[1]["rows"] == [["GPU 0", "X", "NVLink, P2P ok"], ["GPU 1", "NVLink, P2P ok", "X"]]
    assert B.size_text(1536) == "1.5 KiB" and B.size_text(3 << 20) == "3 MiB"
