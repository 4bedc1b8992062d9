# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""gpu_bandwidth's logic as pure functions: the sweeps, the physical limit of each path from NVML
facts, bus bandwidth as nccl-tests defines it, the analysis of the workers' records, judging, the
failure sentences and the report's tables and plots. Nothing here runs a process or reads NVML.

Units: bytes, seconds, GB/s = 1e9 bytes per second (as nccl-tests and NVIDIA's data sheets count).
"""

from __future__ import absolute_import, division, print_function

import json
import math
import os
import re

from ansible_collections.vaultcube.demobox.plugins.module_utils import _result as R

OPS = ("all_reduce", "all_gather", "reduce_scatter")
COPY_KINDS = ("h2d", "d2h", "device_copy")

# quick: the validation check (well under a minute on one GPU); full: burn-in days.
SWEEPS = {
    "quick": {"copy_min": 4 << 10, "copy_max": 256 << 20, "copy_factor": 4,
              "collective_min": 4, "collective_max": 1 << 30, "collective_factor": 4,
              "repeats": 3, "warmup": 2, "target_bytes": 4 << 30, "min_iters": 5, "max_iters": 200,
              "latency_iters": 200, "collective_target_bytes": 8 << 30, "collective_warmup": 5},
    "full": {"copy_min": 1 << 10, "copy_max": 1 << 30, "copy_factor": 2,
             "collective_min": 4, "collective_max": 4 << 30, "collective_factor": 2,
             "repeats": 5, "warmup": 3, "target_bytes": 16 << 30, "min_iters": 10, "max_iters": 1000,
             "latency_iters": 1000, "collective_target_bytes": 32 << 30, "collective_warmup": 10},
}
LATENCY_BYTES = 4

# Usable bytes per second per lane and direction, after line encoding: gen1-2 8b/10b, gen3-5
# 128b/130b, gen6 PAM4 with 242/256-byte FLITs (PCI-SIG base specifications).
PCIE_LANE_GBPS = {1: 0.25, 2: 0.5, 3: 8 * 128 / 130.0 / 8, 4: 16 * 128 / 130.0 / 8, 5: 32 * 128 / 130.0 / 8,
                  6: 64 * 242 / 256.0 / 8}
# Per link and direction by architecture, where NVML gives no link speed (NVIDIA data sheets:
# NVLink 1 on Pascal 20 GB/s, NVLink 2-4 on Volta, Ampere, Hopper 25 GB/s, NVLink 5 on Blackwell 50 GB/s).
NVLINK_LINK_GBPS = {"pascal": 20.0, "volta": 25.0, "ampere": 25.0, "hopper": 25.0, "blackwell": 50.0}
# nccl-tests (doc/PERFORMANCE.md): busbw = algbw x factor, so that busbw compares with link speed.
BUSBW_FACTORS = {
    "all_reduce": lambda n: 2.0 * (n - 1) / n,
    "all_gather": lambda n: (n - 1) / float(n),
    "reduce_scatter": lambda n: (n - 1) / float(n),
}
THRESHOLD = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(%?)\s*$")
GB = 1e9


# --------------------------------------------------------------------------------------------
# plan


def sizes(low, high, factor):
    """low, low*factor, ... up to high (high itself is always the last)."""
    out = []
    size = int(low)
    while size < high:
        out.append(size)
        size *= factor
    out.append(int(high))
    return out


def plan(params):
    """What each worker measures, from the sweep and the overrides."""
    sweep = dict(SWEEPS[params["sweep"]])
    copy_max = params.get("copy_max_bytes") or sweep["copy_max"]
    collective_max = params.get("collective_max_bytes") or sweep["collective_max"]
    copy_min = min(sweep["copy_min"], copy_max)
    collective_min = min(sweep["collective_min"], collective_max)
    return {
        "sweep": params["sweep"],
        "copy_sizes": sizes(copy_min, copy_max, sweep["copy_factor"]),
        "collective_sizes": sizes(collective_min, collective_max, sweep["collective_factor"]),
        "repeats": sweep["repeats"], "warmup": sweep["warmup"], "target_bytes": sweep["target_bytes"],
        "min_iters": sweep["min_iters"], "max_iters": sweep["max_iters"], "latency_iters": sweep["latency_iters"],
        "collective_target_bytes": sweep["collective_target_bytes"], "collective_warmup": sweep["collective_warmup"],
    }


def copies_config(the_plan, gpus, pairs):
    return {"gpus": list(gpus), "sizes": the_plan["copy_sizes"], "repeats": the_plan["repeats"],
            "warmup": the_plan["warmup"], "target_bytes": the_plan["target_bytes"], "min_iters": the_plan["min_iters"],
            "max_iters": the_plan["max_iters"], "latency_bytes": LATENCY_BYTES,
            "latency_iters": the_plan["latency_iters"], "pairs": bool(pairs)}


CPU_MAX_ITERS = 20  # the CPU path proves the logic; its figures are not the point


def collectives_config(the_plan, device, backend, timeout, cpu_threads=1):
    cpu = device == "cpu"
    return {"ops": list(OPS), "sizes": the_plan["collective_sizes"], "device": device, "backend": backend,
            "timeout": int(timeout), "target_bytes": the_plan["collective_target_bytes"],
            "warmup": min(2, the_plan["collective_warmup"]) if cpu else the_plan["collective_warmup"],
            "min_iters": min(the_plan["min_iters"], CPU_MAX_ITERS) if cpu else the_plan["min_iters"],
            "max_iters": min(the_plan["max_iters"], CPU_MAX_ITERS) if cpu else the_plan["max_iters"],
            "cpu_threads": cpu_threads}


def parse_threshold(name, value):
    """A threshold as {'gbps': x} or {'percent': x} or None; ValueError with one sentence if bad."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none", "null")):
        return None
    if isinstance(value, bool):
        raise ValueError("%s must be a bandwidth in GB/s (e.g. 40) or a share of the path's limit (e.g. '80%%'), got %s." % (
            name, value))
    if isinstance(value, (int, float)):
        if value <= 0:
            raise ValueError("%s must be more than 0 GB/s, got %s." % (name, value))
        return {"gbps": float(value)}
    match = THRESHOLD.match(str(value))
    if not match:
        raise ValueError("%s must be a bandwidth in GB/s (e.g. 40) or a share of the path's limit (e.g. '80%%'), got '%s'." % (
            name, value))
    number = float(match.group(1))
    if match.group(2):
        if not 0 < number <= 100:
            raise ValueError("%s as a share of the limit must be above 0%% and at most 100%%, got '%s'." % (name, value))
        return {"percent": number}
    if number <= 0:
        raise ValueError("%s must be more than 0 GB/s, got '%s'." % (name, value))
    return {"gbps": number}


# --------------------------------------------------------------------------------------------
# limits from NVML facts


def pcie_limit(gen, width):
    """Usable GB/s per direction of a PCIe link, or None."""
    if not gen or not width or gen not in PCIE_LANE_GBPS:
        return None
    return round(PCIE_LANE_GBPS[gen] * width, 2)


def memory_limit(bus_width_bits, memory_clock_mhz):
    """GPU memory GB/s: 2 transfers per memory clock (as NVML reports the clock of GDDR and HBM) x bus width."""
    if not bus_width_bits or not memory_clock_mhz:
        return None
    return round(2 * memory_clock_mhz * 1e6 * bus_width_bits / 8.0 / GB, 1)


def nvlink_limit(links, speed_mbps=None, architecture=None):
    """GB/s per direction over ``links`` NVLinks: NVML's link speed, else the architecture's."""
    if not links:
        return None
    per_link = speed_mbps / 1000.0 if speed_mbps else NVLINK_LINK_GBPS.get(architecture or "")
    if not per_link:
        return None
    return round(links * per_link, 1)


def gpu_limits(gpu):
    """The limits of one GPU's paths from its inventory entry (``_nvml.inventory(with_paths=True)``)."""
    pcie = gpu.get("pcie") or {}
    paths = gpu.get("paths") or {}
    gen, width = pcie.get("gen_max"), pcie.get("width_max")
    return {
        "pcie_gbps": pcie_limit(gen, width),
        "pcie_link": ("gen%s x%s" % (gen, width)) if gen and width else None,
        "memory_gbps": memory_limit(paths.get("memory_bus_width_bits"), paths.get("memory_clock_max_mhz")),
        "memory_bus": ("%s-bit at %s MHz" % (paths.get("memory_bus_width_bits"), paths.get("memory_clock_max_mhz"))
                       if paths.get("memory_bus_width_bits") and paths.get("memory_clock_max_mhz") else None),
        "nvlink_gbps": nvlink_limit(gpu.get("nvlink_active_links"), paths.get("nvlink_speed_mbps"),
                                    gpu.get("architecture")),
    }


def pair_limit(pair, gpus_by_index):
    """(GB/s per direction, what it is) of the path between two GPUs."""
    a, b = (gpus_by_index.get(i) or {} for i in pair["gpus"])
    la, lb = gpu_limits(a), gpu_limits(b)
    if pair.get("link") == "NVLink":
        links = min(a.get("nvlink_active_links") or 0, b.get("nvlink_active_links") or 0)
        speed = (a.get("paths") or {}).get("nvlink_speed_mbps")
        limit = nvlink_limit(links, speed, a.get("architecture"))
        return limit, "NVLink x%d" % links if limit else None
    values = [v for v in (la["pcie_gbps"], lb["pcie_gbps"]) if v]
    if not values:
        return None, None
    slower = la if la["pcie_gbps"] == min(values) else lb
    return min(values), "PCIe %s" % slower["pcie_link"]


def limits(inventory):
    """Per GPU and per pair limits, and the limit of a collective over all of them."""
    gpus = inventory.get("gpus") or []
    by_index = dict((g["index"], g) for g in gpus)
    per_gpu = dict((g["index"], gpu_limits(g)) for g in gpus)
    pairs = {}
    for pair in (inventory.get("interconnect") or {}).get("pairs") or []:
        value, what = pair_limit(pair, by_index)
        pairs["%d-%d" % tuple(pair["gpus"])] = {"gbps": value, "path": what, "link": pair.get("link"),
                                                "p2p": pair.get("p2p")}
    values = [p["gbps"] for p in pairs.values() if p["gbps"]]
    return {"gpus": per_gpu, "pairs": pairs, "collective_gbps": min(values) if values else None}


# --------------------------------------------------------------------------------------------
# analysis


def significant(value, digits=4):
    """``value`` rounded to ``digits`` significant digits (GB/s span from 1e-5 on a CPU to 1e3)."""
    if value is None or value == 0:
        return value
    return round(value, max(0, digits - 1 - int(math.floor(math.log10(abs(value))))))


def gbps(nbytes, seconds, factor=1.0):
    if not seconds or seconds <= 0:
        return None
    return significant(nbytes * factor / seconds / GB)


def busbw(op, nbytes, seconds, world):
    """(algbw, busbw) in GB/s as nccl-tests defines them (``nbytes`` is nccl-tests' size)."""
    alg = gbps(nbytes, seconds)
    if alg is None:
        return None, None
    return alg, significant(alg * BUSBW_FACTORS[op](world))


def percent(value, limit):
    if value is None or not limit:
        return None
    return round(100.0 * value / limit, 1)


def read_jsonl(path):
    records = []
    try:
        with open(path) as handle:
            for line in handle:
                line = line.strip()
                if line:
                    try:
                        records.append(json.loads(line))
                    except ValueError:
                        continue
    except OSError:
        pass
    return records


def analyse_copies(records, gpu_limits_by_index):
    """Per GPU: the sweep, the figures at the largest size, latency; per pair: P2P figures."""
    gpus = {}
    pairs = {}
    for rec in records:
        kind = rec.get("type")
        if kind == "gpu":
            gpus[rec["gpu"]] = {"index": rec["gpu"], "name": rec.get("name"), "uuid": rec.get("uuid"),
                                "sweep": {"h2d": [], "d2h": [], "device_copy": []}, "pageable": {}, "latency_us": {}}
        elif kind == "copy" and rec["gpu"] in gpus:
            g = gpus[rec["gpu"]]
            # A copy inside GPU memory reads and writes every byte: it moves 2 x size (as CUDA's
            # bandwidthTest counts it); host copies cross the link once.
            factor = 2.0 if rec["kind"] == "device_copy" else 1.0
            value = gbps(rec["bytes"], rec["seconds"], factor)
            if rec.get("memory") == "pageable":
                g["pageable"][rec["kind"]] = value
            else:
                g["sweep"][rec["kind"]].append([rec["bytes"], value])
        elif kind == "latency" and rec["gpu"] in gpus:
            gpus[rec["gpu"]]["latency_us"][rec["kind"]] = round(rec["seconds"] * 1e6, 2)
        elif kind == "pair":
            pairs["%d-%d" % tuple(rec["gpus"])] = {"gpus": rec["gpus"], "peer_access": rec.get("peer_access"),
                                                   "peer": {}, "no_peer": {}, "bidirectional_gbps": None,
                                                   "control_reason": None, "bytes": None}
        elif kind == "p2p":
            a, b = rec["gpus"]
            key = "%d-%d" % (min(a, b), max(a, b))
            pair = pairs.setdefault(key, {"gpus": [min(a, b), max(a, b)], "peer_access": None, "peer": {},
                                          "no_peer": {}, "bidirectional_gbps": None, "control_reason": None,
                                          "bytes": None})
            pair["bytes"] = rec["bytes"]
            if rec["mode"] == "bidirectional":
                pair["bidirectional_gbps"] = gbps(2 * rec["bytes"], rec["seconds"])
            else:
                pair[rec["mode"]]["%d->%d" % (a, b)] = gbps(rec["bytes"], rec["seconds"])
        elif kind == "p2p_control_skipped":
            key = "%d-%d" % tuple(sorted(rec["gpus"]))
            if key in pairs:
                pairs[key]["control_reason"] = rec.get("reason")
    for index, g in gpus.items():
        lim = gpu_limits_by_index.get(index) or {}
        largest = {}
        for kind in COPY_KINDS:
            points = sorted(g["sweep"][kind])
            largest[kind] = points[-1][1] if points else None
            g["largest_bytes"] = points[-1][0] if points else None
        g["h2d_gbps"], g["d2h_gbps"], g["device_copy_gbps"] = largest["h2d"], largest["d2h"], largest["device_copy"]
        g["pcie_limit_gbps"] = lim.get("pcie_gbps")
        g["pcie_link"] = lim.get("pcie_link")
        g["memory_limit_gbps"] = lim.get("memory_gbps")
        g["h2d_percent"] = percent(g["h2d_gbps"], g["pcie_limit_gbps"])
        g["d2h_percent"] = percent(g["d2h_gbps"], g["pcie_limit_gbps"])
        g["device_copy_percent"] = percent(g["device_copy_gbps"], g["memory_limit_gbps"])
        g["complete"] = all(largest[k] is not None for k in COPY_KINDS) and len(g["latency_us"]) == 2
    for pair in pairs.values():
        peer = [v for v in pair["peer"].values() if v is not None]
        staged = [v for v in pair["no_peer"].values() if v is not None]
        pair["peer_gbps"] = min(peer) if peer else None
        pair["no_peer_gbps"] = min(staged) if staged else None
        pair["p2p_gain"] = round(pair["peer_gbps"] / pair["no_peer_gbps"], 2) if (peer and staged and min(staged)) else None
    return {"gpus": [gpus[i] for i in sorted(gpus)], "pairs": [pairs[k] for k in sorted(pairs)],
            "ended": any(r.get("type") == "end" for r in records)}


def analyse_collectives(results, world):
    """Per collective and size: the slowest rank's time, algbw and busbw, and the exact check on every rank."""
    table = {}
    for result in results:
        rank = result["info"]["rank"]
        for rec in result["records"]:
            key = (rec["op"], rec["bytes"])
            entry = table.setdefault(key, {"op": rec["op"], "bytes": rec["bytes"], "seconds": 0.0, "iters": rec["iters"],
                                           "ranks": [], "wrong_ranks": [], "mismatches": 0, "elements": 0,
                                           "first": None})
            entry["seconds"] = max(entry["seconds"], rec["seconds"])
            entry["ranks"].append(rank)
            check = rec["check"]
            entry["elements"] = check["elements"]
            if check["mismatches"]:
                entry["wrong_ranks"].append(rank)
                entry["mismatches"] = max(entry["mismatches"], check["mismatches"])
                if entry["first"] is None or rank < entry["first"]["rank"]:
                    entry["first"] = {"rank": rank, "index": check["first_index"], "expected": check["expected"],
                                      "got": check["got"]}
    out = {}
    for (op, _nbytes), entry in sorted(table.items()):
        entry["ranks"] = sorted(entry["ranks"])
        entry["wrong_ranks"] = sorted(entry["wrong_ranks"])
        entry["time_us"] = round(entry["seconds"] * 1e6, 2)
        entry["algbw_gbps"], entry["busbw_gbps"] = busbw(op, entry["bytes"], entry["seconds"], world)
        out.setdefault(op, []).append(entry)
    return out


def hang_sentence(progress_by_rank, ranks, timeout):
    """Name the collective, the size and the ranks of a run that did not finish in time.

    ``ranks``: the ranks this node can speak for (all of them on a single node)."""
    last = {}
    for rank in ranks:
        events = progress_by_rank.get(rank) or []
        last[rank] = events[-1] if events else None
    entered = [(r, e) for r, e in last.items() if e and e.get("event") == "enter"]
    if not entered:
        started = [r for r, e in last.items() if e]
        if not started:
            return "The collectives did not start within the timeout of %s s: no rank got past the process group set-up." % timeout
        return ("The collectives did not finish within the timeout of %s s; the last steps of the ranks were: %s." % (
            timeout, "; ".join("rank %d %s" % (r, _step_text(e)) for r, e in sorted(last.items()))))
    # The step the waiting ranks are stuck in: the earliest entered one.
    stuck = min((e for _r, e in entered), key=lambda e: e.get("t", 0))
    op, nbytes = stuck["op"], stuck["bytes"]
    waiting = sorted(r for r, e in entered if e["op"] == op and e["bytes"] == nbytes)
    missing = sorted(r for r in ranks if r not in waiting)
    text = "%s of %s did not complete within the timeout of %s s: rank%s %s entered it and waited" % (
        op, size_text(nbytes), timeout, "s" if len(waiting) > 1 else "", _ranks(waiting))
    if missing:
        text += "; rank%s %s never reached it (%s)" % (
            "s" if len(missing) > 1 else "", _ranks(missing),
            "; ".join("rank %d %s" % (r, _step_text(last[r])) for r in missing))
    return text + "."


def _step_text(event):
    if not event:
        return "never started"
    if event.get("event") == "ready":
        return "had set up its process group and not started a collective"
    verb = "last completed" if event.get("event") == "done" else "was inside"
    return "%s %s of %s" % (verb, event["op"], size_text(event["bytes"]))


def _ranks(ranks):
    return ", ".join(str(r) for r in ranks)


def size_text(nbytes):
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if nbytes >= scale and nbytes % scale == 0:
            return "%d %s" % (nbytes // scale, unit)
    if nbytes >= 1 << 10:
        return "%.1f KiB" % (nbytes / 1024.0)
    return "%d B" % nbytes


def _num(value):
    if value is None:
        return "-"
    if isinstance(value, float):
        text = ("%.1f" % value) if abs(value) >= 10 else ("%.3g" % value)
        return text[:-2] if text.endswith(".0") else text
    return str(value)


# --------------------------------------------------------------------------------------------
# judging


def _bandwidth_check(name, label, value, limit, limit_text, threshold, subject):
    """A GB/s figure against an absolute or %-of-limit minimum; info without a threshold."""
    pct = percent(value, limit)
    of_limit = (" (%s%% of the %s limit of %s GB/s)" % (_num(pct), limit_text, _num(limit))) if pct is not None else (
        " (no limit known)")
    if value is None:
        return R.make_check(name, R.SKIPPED, None, threshold, "GB/s", "%s of %s could not be measured." % (label, subject))
    text = "%s of %s is %s GB/s%s" % (label, subject, _num(value), of_limit)
    if threshold is None:
        return R.make_check(name, R.INFO, value, None, "GB/s", text + " (no threshold set).")
    if "percent" in threshold:
        if pct is None:
            return R.make_check(name, R.SKIPPED, value, {"min": "%s%%" % _num(threshold["percent"])}, "GB/s",
                                text + "; the minimum of %s%% of the limit cannot be judged without a limit." % _num(
                                    threshold["percent"]))
        minimum = round(limit * threshold["percent"] / 100.0, 3)
        shown = "%s%% of the limit (%s GB/s)" % (_num(threshold["percent"]), _num(minimum))
    else:
        minimum = threshold["gbps"]
        shown = "%s GB/s" % _num(minimum)
    if value >= minimum:
        return R.make_check(name, R.PASSED, value, {"min": minimum}, "GB/s", text + ", at or above the minimum of %s." % shown)
    return R.make_check(name, R.FAILED, value, {"min": minimum}, "GB/s", text + ", below the minimum of %s." % shown)


def gpu_checks(copies, thresholds, cpu_label=None):
    checks = []
    for g in copies["gpus"]:
        who = "GPU %d (%s)" % (g["index"], g.get("name") or "unknown")
        prefix = "gpu_bandwidth.gpu%d." % g["index"]
        at = (" at %s" % size_text(g["largest_bytes"])) if g.get("largest_bytes") else ""
        pcie = "PCIe %s" % g.get("pcie_link") if g.get("pcie_link") else "PCIe"
        checks.append(_bandwidth_check(prefix + "h2d", "Host-to-device copy bandwidth (pinned%s)" % at, g["h2d_gbps"],
                                       g["pcie_limit_gbps"], pcie, thresholds.get("min_h2d"), who))
        checks.append(_bandwidth_check(prefix + "d2h", "Device-to-host copy bandwidth (pinned%s)" % at, g["d2h_gbps"],
                                       g["pcie_limit_gbps"], pcie, thresholds.get("min_d2h"), who))
        checks.append(_bandwidth_check(prefix + "device_copy", "Copy bandwidth in GPU memory (read + write%s)" % at,
                                       g["device_copy_gbps"], g["memory_limit_gbps"], "memory",
                                       thresholds.get("min_device_copy"), who))
        worst = max(g["latency_us"].values()) if g["latency_us"] else None
        checks.append(R.judge_max(prefix + "copy_latency", "Latency of a %d-byte synchronous copy (worse of H2D %s us, D2H %s us)" % (
            LATENCY_BYTES, _num(g["latency_us"].get("h2d")), _num(g["latency_us"].get("d2h"))), worst,
            thresholds.get("max_copy_latency_us"), "us", subject=who))
    return checks


def pair_checks(copies, pair_limits, threshold):
    checks = []
    for pair in copies["pairs"]:
        a, b = pair["gpus"]
        key = "%d-%d" % (a, b)
        lim = pair_limits.get(key) or {}
        name = "gpu_bandwidth.pair%d_%d.p2p" % (a, b)
        subject = "GPUs %d and %d" % (a, b)
        if pair.get("peer_access"):
            control = (", %s GB/s with peer access off (P2P gives x%s)" % (_num(pair["no_peer_gbps"]), _num(pair["p2p_gain"]))
                       if pair["no_peer_gbps"] else (", control not measured: %s" % pair["control_reason"]
                                                     if pair.get("control_reason") else ""))
            label = "Peer-to-peer copy bandwidth (slower way; both ways at once %s GB/s%s)" % (
                _num(pair["bidirectional_gbps"]), control)
            checks.append(_bandwidth_check(name, label, pair["peer_gbps"], lim.get("gbps"), lim.get("path") or "path",
                                           threshold, subject))
        else:
            why = _p2p_reason(lim.get("p2p"))
            label = "Peer access is not possible%s, so copies are staged through host memory; copy bandwidth (slower way)" % why
            checks.append(_bandwidth_check(name, label, pair["no_peer_gbps"], lim.get("gbps"), lim.get("path") or "path",
                                           threshold, subject))
    return checks


def _p2p_reason(p2p):
    if not p2p:
        return ""
    bad = ["%s %s" % (k, v) for k, v in sorted(p2p.items()) if v not in (None, "ok") and k != "nvlink"]
    return (" (NVML: %s)" % ", ".join(bad)) if bad else ""


def collective_checks(collectives, world, thresholds, collective_limit, cpu=False):
    checks = []
    for op in OPS:
        entries = collectives.get(op) or []
        if not entries:
            checks.append(R.skipped("gpu_bandwidth.%s.check" % op, "%s was not measured." % op))
            continue
        wrong = [e for e in entries if e["mismatches"]]
        name = "gpu_bandwidth.%s.check" % op
        if wrong:
            parts = []
            for e in wrong:
                first = e["first"] or {}
                parts.append("%s: %d of %d elements wrong on rank%s %s (first at element %s on rank %s: expected %s, got %s)" % (
                    size_text(e["bytes"]), e["mismatches"], e["elements"], "s" if len(e["wrong_ranks"]) > 1 else "",
                    _ranks(e["wrong_ranks"]), first.get("index"), first.get("rank"), _num(first.get("expected")),
                    _num(first.get("got"))))
            checks.append(R.make_check(name, R.FAILED, sum(e["mismatches"] for e in wrong), {"max": 0}, "elements",
                                       "%s returned wrong data at %d of %d sizes: %s." % (
                                           op, len(wrong), len(entries), "; ".join(parts))))
        else:
            checks.append(R.make_check(name, R.PASSED, 0, {"max": 0}, "elements",
                                       "%s returned the exact expected result on all %d ranks at all %d sizes (%s to %s)." % (
                                           op, world, len(entries), size_text(entries[0]["bytes"]),
                                           size_text(entries[-1]["bytes"]))))
        largest = entries[-1]
        label = "%s bus bandwidth at %s over %d ranks (algbw %s GB/s)" % (
            op, size_text(largest["bytes"]), world, _num(largest["algbw_gbps"]))
        threshold = thresholds.get("min_busbw") if (op == "all_reduce" and not cpu) else None
        checks.append(_bandwidth_check("gpu_bandwidth.%s.busbw" % op, label, largest["busbw_gbps"],
                                       None if cpu else collective_limit, "slowest link's", threshold,
                                       "the %s" % ("CPU processes (gloo, not a GPU figure)" if cpu else "GPUs")))
        smallest = entries[0]
        checks.append(R.judge_max("gpu_bandwidth.%s.latency" % op, "Time of a %s %s" % (size_text(smallest["bytes"]), op),
                                  smallest["time_us"], thresholds.get("max_collective_latency_us") if op == "all_reduce" else None,
                                  "us", subject="%d ranks" % world))
    return checks


# --------------------------------------------------------------------------------------------
# the slowest path (the report points ddp_benchmark's scaling failures at it)


def slowest_path(copies, pair_limits):
    """The slowest GPU-to-GPU path (or host link, on one GPU) measured, with a sentence."""
    candidates = []
    for pair in copies.get("pairs") or []:
        key = "%d-%d" % tuple(pair["gpus"])
        lim = pair_limits.get(key) or {}
        if pair.get("peer_access") and pair.get("peer_gbps"):
            candidates.append((pair["peer_gbps"], "GPU %d <-> GPU %d (peer access on)" % tuple(pair["gpus"]),
                               lim.get("gbps"), lim.get("path")))
        elif pair.get("no_peer_gbps"):
            candidates.append((pair["no_peer_gbps"], "GPU %d <-> GPU %d (no peer access: staged through host memory)" % tuple(
                pair["gpus"]), lim.get("gbps"), lim.get("path")))
    if not candidates:
        for g in copies.get("gpus") or []:
            for kind, label in (("h2d", "host -> GPU %d"), ("d2h", "GPU %d -> host")):
                if g.get(kind + "_gbps"):
                    candidates.append((g[kind + "_gbps"], label % g["index"], g.get("pcie_limit_gbps"),
                                       "PCIe %s" % g.get("pcie_link") if g.get("pcie_link") else None))
    if not candidates:
        return None
    value, path, limit, what = min(candidates, key=lambda c: c[0])
    pct = percent(value, limit)
    sentence = "the slowest path gpu_bandwidth measured is %s at %s GB/s" % (path, _num(value))
    if pct is not None:
        sentence += " (%s%% of its %s limit of %s GB/s)" % (_num(pct), what, _num(limit))
    return {"path": path, "gbps": value, "limit_gbps": limit, "percent_of_limit": pct, "sentence": sentence}


# --------------------------------------------------------------------------------------------
# report material


def topology_tables(inventory, the_limits):
    gpus = inventory.get("gpus") or []
    rows = []
    for g in gpus:
        pcie = g.get("pcie") or {}
        paths = g.get("paths") or {}
        lim = the_limits["gpus"].get(g["index"]) or {}
        rows.append([g["index"], g.get("name"), paths.get("numa_node"), paths.get("cpu_affinity"),
                     "gen%s x%s" % (pcie.get("gen_current"), pcie.get("width_current")),
                     "gen%s x%s" % (pcie.get("gen_max"), pcie.get("width_max")),
                     {True: "yes", False: "no"}.get(pcie.get("below_max"), "-"), lim.get("pcie_gbps"),
                     lim.get("memory_bus"), lim.get("memory_gbps"), g.get("nvlink_active_links"), lim.get("nvlink_gbps")])
    tables = [{"title": "gpu_bandwidth: GPUs, their links and limits (GB/s per direction)",
               "columns": ["GPU", "name", "NUMA node", "CPU affinity", "PCIe now", "PCIe max", "below max",
                           "PCIe limit", "memory bus", "memory limit", "NVLinks", "NVLink limit"],
               "rows": rows}]
    pairs = (inventory.get("interconnect") or {}).get("pairs") or []
    if pairs:
        index = [g["index"] for g in gpus]
        cell = {}
        for p in pairs:
            i, j = p["gpus"]
            p2p = p.get("p2p") or {}
            text = "%s, P2P %s" % (p.get("link") or "-", p2p.get("read") or "-")
            cell[(i, j)] = cell[(j, i)] = text
        tables.append({"title": "gpu_bandwidth: topology (NVML common ancestor: PIX one switch, PXB several, PHB host bridge, "
                                "NODE same CPU, SYS across CPUs; P2P read status)",
                       "columns": ["GPU"] + ["GPU %d" % i for i in index],
                       "rows": [["GPU %d" % i] + [("X" if i == j else cell.get((i, j), "-")) for j in index] for i in index]})
    return tables


def copy_tables(copies):
    tables = []
    if copies["gpus"]:
        rows = [[g["index"], g.get("name"), g["h2d_gbps"], g["h2d_percent"], g["d2h_gbps"], g["d2h_percent"],
                 g["pageable"].get("h2d"), g["pageable"].get("d2h"), g["device_copy_gbps"], g["device_copy_percent"],
                 g["latency_us"].get("h2d"), g["latency_us"].get("d2h")] for g in copies["gpus"]]
        size = copies["gpus"][0].get("largest_bytes")
        tables.append({"title": "gpu_bandwidth: copies per GPU at %s (GB/s; %% of the PCIe / memory limit)" % (
            size_text(size) if size else "-"),
            "columns": ["GPU", "name", "H2D pinned", "H2D %", "D2H pinned", "D2H %", "H2D pageable", "D2H pageable",
                        "in memory", "in memory %", "H2D latency us", "D2H latency us"],
            "rows": rows})
    if copies["pairs"]:
        index = sorted({i for p in copies["pairs"] for i in p["gpus"]})
        peer = {}
        for p in copies["pairs"]:
            for mode in ("peer", "no_peer"):
                for way, value in p[mode].items():
                    src, dst = (int(x) for x in way.split("->"))
                    peer.setdefault((src, dst), {})[mode] = value
        rows = []
        for i in index:
            row = ["GPU %d" % i]
            for j in index:
                if i == j:
                    row.append("X")
                    continue
                v = peer.get((i, j), {})
                row.append("%s / %s" % (_num(v.get("peer")), _num(v.get("no_peer"))))
            rows.append(row)
        tables.append({"title": "gpu_bandwidth: P2P matrix, source row to destination column (GB/s, peer access on / off)",
                       "columns": ["from \\ to"] + ["GPU %d" % j for j in index], "rows": rows})
        tables.append({"title": "gpu_bandwidth: GPU pairs",
                       "columns": ["pair", "peer access", "peer GB/s (slower way)", "both ways GB/s", "peer off GB/s",
                                   "P2P gain"],
                       "rows": [["%d-%d" % tuple(p["gpus"]), p.get("peer_access"), p["peer_gbps"], p["bidirectional_gbps"],
                                 p["no_peer_gbps"], p["p2p_gain"]] for p in copies["pairs"]]})
    return tables


def collective_table(collectives, world, device):
    rows = []
    for op in OPS:
        for e in collectives.get(op) or []:
            rows.append([op, e["bytes"], size_text(e["bytes"]), e["time_us"], e["algbw_gbps"], e["busbw_gbps"],
                         "%d / %d" % (e["mismatches"], e["elements"])])
    return {"title": "gpu_bandwidth: collectives over %d ranks (%s; time of the slowest rank; busbw as nccl-tests)" % (
        world, "NCCL on GPUs" if device == "cuda" else "gloo on the CPU, not a GPU figure"),
        "columns": ["collective", "bytes", "size", "time us", "algbw GB/s", "busbw GB/s", "wrong / elements"],
        "rows": rows}


def plots(copies, collectives, device):
    out = []
    if collectives:
        series = {}
        for op in OPS:
            points = [[round(math.log2(e["bytes"]), 2), e["busbw_gbps"]] for e in collectives.get(op) or []]
            if points:
                series[op] = points
        out.append({"title": "gpu_bandwidth: bus bandwidth vs message size%s" % ("" if device == "cuda" else " (CPU, gloo)"),
                    "kind": "line", "x_label": "message size, log2 bytes (10 = 1 KiB, 20 = 1 MiB, 30 = 1 GiB)",
                    "y_label": "busbw GB/s", "series": series})
    if copies and copies["gpus"]:
        bars = {"H2D pinned": [], "D2H pinned": [], "PCIe limit": []}
        for g in copies["gpus"]:
            label = "GPU %d" % g["index"]
            bars["H2D pinned"].append([label, g["h2d_gbps"]])
            bars["D2H pinned"].append([label, g["d2h_gbps"]])
            bars["PCIe limit"].append([label, g["pcie_limit_gbps"]])
        out.append({"title": "gpu_bandwidth: host <-> GPU copy bandwidth per GPU", "kind": "bar", "x_label": "GPU",
                    "y_label": "GB/s", "series": bars})
        series = {}
        for g in copies["gpus"]:
            for kind, name in (("h2d", "H2D"), ("d2h", "D2H")):
                series["GPU %d %s" % (g["index"], name)] = [[round(math.log2(b), 2), v] for b, v in sorted(g["sweep"][kind])]
        out.append({"title": "gpu_bandwidth: host <-> GPU copy bandwidth vs size", "kind": "line",
                    "x_label": "copy size, log2 bytes (20 = 1 MiB)", "y_label": "GB/s", "series": series})
    if copies and copies["pairs"]:
        bars = {"peer access on": [], "peer access off": []}
        for p in copies["pairs"]:
            label = "%d-%d" % tuple(p["gpus"])
            bars["peer access on"].append([label, p["peer_gbps"]])
            bars["peer access off"].append([label, p["no_peer_gbps"]])
        out.append({"title": "gpu_bandwidth: GPU-to-GPU copy bandwidth (slower way)", "kind": "bar", "x_label": "pair",
                    "y_label": "GB/s", "series": bars})
    return out


def read_collective_outputs(out_dir):
    results, errors, progress = [], [], {}
    for name in sorted(os.listdir(out_dir)) if os.path.isdir(out_dir) else []:
        path = os.path.join(out_dir, name)
        m = re.match(r"^(result|error|progress)-rank(\d+)\.(json|jsonl)$", name)
        if not m:
            continue
        if m.group(1) == "progress":
            progress[int(m.group(2))] = read_jsonl(path)
            continue
        try:
            with open(path) as handle:
                data = json.load(handle)
        except (OSError, ValueError):
            continue
        (results if m.group(1) == "result" else errors).append(data)
    return results, errors, progress
