# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where dpkg's time went in an image build, from the guest's /var/log/dpkg.log.

    python3 dpkg_profile.py DPKG_LOG [--since 'YYYY-MM-DD HH:MM:SS'] [--top N] [--json OUT]

Each dpkg.log action line starts an activity that lasts until the next line: after `install P` or
`upgrade P` dpkg unpacks P, after `configure P` it runs P's postinst, after
`trigproc P` it runs P's trigger (man-db's index, initramfs, ldconfig, systemd ...). The gaps are
summed per activity and per package (one-second resolution, as dpkg logs). The time before a
`startup` line (apt, unattended-upgrade or Ansible between two dpkg runs) is not dpkg's and is
left out: dpkg's total against the build's time shows what dpkg is not.
Standard library only. docs/build-pipeline.md shows its output for a layer-1 build.
"""
import argparse
import datetime
import json
import re
import sys

LINE_RE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) (\S+) (.*)$")


def activity(verb, rest):
    """(kind, package) that this line starts, or None: only dpkg's action lines start one (its
    `status` lines are steps inside the current action)."""
    words = rest.split()
    kinds = {"install": "unpack", "upgrade": "unpack", "configure": "configure", "trigproc": "trigger",
             "remove": "remove", "purge": "remove"}
    if verb in kinds and words:
        return kinds[verb], words[0].split(":")[0]
    if verb == "startup":
        return "dpkg", " ".join(words)
    return None


def profile(lines, since=None):
    runs, totals, by_package = 0, {}, {}
    previous, current = None, None
    for line in lines:
        match = LINE_RE.match(line.rstrip("\n"))
        if not match:
            continue
        stamp, verb, rest = match.groups()
        if since and stamp < since:
            continue
        when = datetime.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S")
        if verb == "startup" and rest.startswith("archives"):
            runs += 1
        # The time before a `startup` line is apt or Ansible between two dpkg runs, not dpkg.
        if previous is not None and current is not None and verb != "startup":
            gap = (when - previous).total_seconds()
            if gap >= 0:
                totals[current[0]] = totals.get(current[0], 0) + gap
                key = (current[0], current[1])
                by_package[key] = by_package.get(key, 0) + gap
        started = activity(verb, rest)
        if started is not None:
            current = started
        previous = when
    return {"dpkg_runs": runs, "seconds": totals, "by_package": by_package}


def main(argv=None):
    top = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    top.add_argument("log")
    top.add_argument("--since")
    top.add_argument("--top", type=int, default=12)
    top.add_argument("--json")
    args = top.parse_args(argv)
    with open(args.log, encoding="utf-8", errors="replace") as handle:
        result = profile(handle, args.since)
    total = sum(result["seconds"].values())
    print("dpkg: %d runs, %d s in all" % (result["dpkg_runs"], total))
    for kind, seconds in sorted(result["seconds"].items(), key=lambda kv: -kv[1]):
        print("  %-10s %6d s" % (kind, seconds))
    triggers = sorted(((s, p) for (k, p), s in result["by_package"].items() if k == "trigger"), reverse=True)
    print("triggers: " + ", ".join("%s %d s" % (p, s) for s, p in triggers[:args.top]))
    slow = sorted(((s, k, p) for (k, p), s in result["by_package"].items() if k in ("unpack", "configure")), reverse=True)
    print("slowest packages: " + ", ".join("%s (%s) %d s" % (p, k, s) for s, k, p in slow[:args.top]))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"dpkg_runs": result["dpkg_runs"], "seconds": result["seconds"],
                       "by_package": [{"kind": k, "package": p, "seconds": s} for (k, p), s in sorted(result["by_package"].items())]},
                      handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
