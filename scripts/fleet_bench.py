# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the fleet report costs on the controller for 1, 10, 100 and 1,000 hosts (docs/fleet.md).

Each size runs in a fresh child process: synthetic host reports (tests/unit/fleet_synth.py, the
shape of a 4-GPU box's report, about 30 checks) are written to a temporary report directory,
then ``_fleet_report.write_fleet`` (read every report, aggregate, render JSON, Markdown, JUnit and
HTML, write the history) is timed, best of ``--repeat``; memory is the Python allocations' peak
during one more run under ``tracemalloc`` and the child's maximum resident set size (``ru_maxrss``).

Run it from a source copy at .../ansible_collections/vaultcube/demobox (``make src SRC=...``):

    python scripts/fleet_bench.py [--sizes 1 10 100 1000] [--repeat 3]
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.abspath(os.path.join(ROOT, "..", "..", "..")), os.path.join(ROOT, "tests", "unit")]


def one(size, repeat):
    from fleet_synth import fleet, write_reports

    from ansible_collections.vaultcube.demobox.plugins.plugin_utils import _fleet_report

    work = tempfile.mkdtemp(prefix="vaultcube-fleet-bench-")
    try:
        entries = fleet(size, odd={"box002": {"throughput": 2000.0}})
        info = write_reports(work, entries)
        hosts = [e["host"] for e in entries]
        del entries
        params = {"hosts": hosts, "reachable": hosts, "host_info": info, "dest": os.path.join(work, "fleet"),
                  "formats": ["json", "markdown", "junit", "html"], "tolerance_pct": 10, "tolerances": {},
                  "baseline": None, "history_keep": 10, "since": None, "template_dir": None}
        times = []
        for _attempt in range(repeat):  # timed without tracemalloc (it slows allocation down)
            start = time.perf_counter()
            result = _fleet_report.write_fleet(params)
            times.append(time.perf_counter() - start)
            if result.get("failed"):
                raise SystemExit(result["msg"])
        tracemalloc.start()  # one more run for the peak of Python allocations
        _fleet_report.write_fleet(params)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        sizes = dict((fmt, os.path.getsize(path)) for fmt, path in result["files"].items())
        return {"hosts": size, "seconds": min(times), "tracemalloc_peak_mib": peak / 2.0 ** 20,
                "maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
                "outliers": result["counts"]["outliers"], "file_bytes": sizes}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 100, 1000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.repeat)))
        return
    rows = []
    for size in args.sizes:
        out = subprocess.run([sys.executable, __file__, "--one", str(size), "--repeat", str(args.repeat)],
                             check=True, capture_output=True, text=True).stdout
        rows.append(json.loads(out))
    print("| hosts | seconds (best of %d) | seconds per host | Python peak (MiB) | process max RSS (MiB) | HTML (KiB) | JSON (KiB) |" % args.repeat)
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        print("| %d | %.3f | %.4f | %.1f | %.0f | %.0f | %.0f |" % (
            row["hosts"], row["seconds"], row["seconds"] / row["hosts"], row["tracemalloc_peak_mib"], row["maxrss_mib"],
            row["file_bytes"]["html"] / 1024.0, row["file_bytes"]["json"] / 1024.0))


if __name__ == "__main__":
    main()
