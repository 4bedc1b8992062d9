# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Side-by-side summary of tests/gpu/gpu_bandwidth.sh: the module (from the validation report it
wrote) beside the plain references, with the verdicts the issue asks for.

    python3 tests/gpu/bandwidth_summary.py WORK_DIR OUT_PREFIX   -> OUT_PREFIX.md, OUT_PREFIX.json

Exit status 0 when every verdict holds.
"""

import json
import os
import sys

TOLERANCE = 3.0  # percent
LARGEST = 256 << 20


def jsonl(path):
    out = []
    try:
        with open(path) as handle:
            out = [json.loads(line) for line in handle if line.startswith("{")]
    except OSError:
        pass
    return out


def load(path):
    try:
        with open(path) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def main():
    work, prefix = sys.argv[1:3]
    refs = {}
    for name in ("before", "after"):
        for rec in jsonl(os.path.join(work, "ref-%s.jsonl" % name)):
            refs.setdefault(rec["reference"], {})[name] = rec["gbps"]
    ref_ar = {r["bytes"]: r for r in jsonl(os.path.join(work, "ref-allreduce.jsonl"))}
    report = load(os.path.join(work, "report", "localhost", "validation-report.json")) or {}
    module = (report.get("modules") or {}).get("gpu_bandwidth") or {}
    metrics = module.get("metrics") or {}
    times = open(os.path.join(work, "validate-times.txt")).read().split() if os.path.exists(
        os.path.join(work, "validate-times.txt")) else None
    full = load(os.path.join(work, "full.json"))

    verdicts = []
    rows = []

    def compare(label, mod, ref_values, unit="GB/s"):
        values = [v for v in ref_values if v]
        ref = sum(values) / len(values) if values else None
        delta = round(100.0 * (mod - ref) / ref, 2) if (mod and ref) else None
        ok = delta is not None and abs(delta) <= TOLERANCE
        rows.append([label, mod, ", ".join("%.2f" % v for v in values), ref and round(ref, 2), delta, "yes" if ok else "NO"])
        verdicts.append({"what": "%s within %s%% of the reference" % (label, TOLERANCE), "ok": ok, "module": mod,
                         "reference": ref, "delta_percent": delta, "unit": unit})

    gpu0 = (metrics.get("gpus") or [{}])[0]
    sweep = gpu0.get("sweep") or {}
    for kind, label in (("h2d", "H2D pinned"), ("d2h", "D2H pinned"), ("device_copy", "copy in GPU memory (read + write)")):
        at = dict((b, v) for b, v in sweep.get(kind) or [])
        compare("GPU 0 %s at 256 MiB" % label, at.get(LARGEST), [refs.get(kind, {}).get("before"), refs.get(kind, {}).get("after")])
    pairs = metrics.get("pairs") or []
    if pairs and "p2p_0_to_1" in refs:
        peer = pairs[0].get("peer") or {}
        compare("GPU 0 -> GPU 1 peer copy at 256 MiB", peer.get("0->1"), list(refs["p2p_0_to_1"].values()))
        compare("GPU 1 -> GPU 0 peer copy at 256 MiB", peer.get("1->0"), list(refs["p2p_1_to_0"].values()))
    for entry in (metrics.get("collectives") or {}).get("all_reduce") or []:
        if entry["bytes"] in ref_ar:
            compare("all_reduce busbw at %d MiB" % (entry["bytes"] >> 20), entry["busbw_gbps"], [ref_ar[entry["bytes"]]["busbw_gbps"]])

    lim = gpu0
    limits_text = []
    if gpu0:
        limits_text = [
            "PCIe limit %s GB/s per direction (%s): module H2D %s GB/s = %s%%, D2H %s GB/s = %s%%" % (
                lim.get("pcie_limit_gbps"), lim.get("pcie_link"), lim.get("h2d_gbps"), lim.get("h2d_percent"),
                lim.get("d2h_gbps"), lim.get("d2h_percent")),
            "memory limit %s GB/s (%s): module copy in GPU memory %s GB/s = %s%%" % (
                lim.get("memory_limit_gbps"), ((metrics.get("limits") or {}).get("gpus") or {}).get("0", {}).get("memory_bus"),
                lim.get("device_copy_gbps"), lim.get("device_copy_percent")),
        ]
    wall = round(float(times[1]) - float(times[0]), 1) if times else None
    elapsed = metrics.get("elapsed_s")
    verdicts.append({"what": "default validation check (gpu_bandwidth, sweep quick) under 60 s", "ok": bool(elapsed and elapsed < 60),
                     "module_elapsed_s": elapsed, "playbook_wall_s": wall})
    verdicts.append({"what": "the validate playbook succeeded and its report passed",
                     "ok": report.get("passed") is True and bool(times) and times[2:] == ["0"],
                     "playbook_rc": times[2] if times and len(times) > 2 else None, "failures": report.get("failures")})

    lines = ["# gpu_bandwidth on the GPU machine", ""]
    lines.append("Module (through `ansible-playbook vaultcube.demobox.validate`, validation_checks [bandwidth], role "
                 "defaults) beside the plain reference (tests/gpu/bandwidth_reference.py, run before and after).")
    lines.append("")
    lines.append("| figure | module | reference runs | reference mean | module vs reference % | within 3 % |")
    lines.append("| --- | --- | --- | --- | --- | --- |")
    for row in rows:
        lines.append("| %s |" % " | ".join("-" if v is None else str(v) for v in row))
    lines.append("")
    for text in limits_text:
        lines.append("- " + text)
    slowest = metrics.get("slowest_path") or {}
    if slowest:
        lines.append("- " + slowest.get("sentence", ""))
    lines.append("- default check: module %s s (metrics.elapsed_s), validate playbook %s s wall (with gpu_facts and the report)" % (
        elapsed, wall))
    if full:
        fm = full.get("metrics") or {}
        g = (fm.get("gpus") or [{}])[0]
        ar = (fm.get("collectives") or {}).get("all_reduce") or []
        lines.append("- full sweep (burn-in): %s s; GPU 0 at %s bytes: H2D %s, D2H %s, in memory %s GB/s%s; passed %s" % (
            fm.get("elapsed_s"), g.get("largest_bytes"), g.get("h2d_gbps"), g.get("d2h_gbps"), g.get("device_copy_gbps"),
            ("; all_reduce busbw %s GB/s at %s bytes" % (ar[-1]["busbw_gbps"], ar[-1]["bytes"])) if ar else "",
            full.get("passed")))
    lines.append("")
    lines.append("## Verdicts")
    lines.append("")
    for v in verdicts:
        lines.append("- %s: %s" % ("PASS" if v["ok"] else "FAIL", v["what"]))
    text = "\n".join(lines) + "\n"
    with open(prefix + ".md", "w") as handle:
        handle.write(text)
    with open(prefix + ".json", "w") as handle:
        json.dump({"rows": rows, "verdicts": verdicts, "limits": limits_text, "references": refs,
                   "reference_all_reduce": ref_ar, "module_metrics": metrics, "full": (full or {}).get("metrics")},
                  handle, indent=1, default=str)
    sys.stdout.write(text)
    return 0 if all(v["ok"] for v in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
