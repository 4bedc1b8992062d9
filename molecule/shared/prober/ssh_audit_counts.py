#!/usr/bin/env python3
"""Run ssh-audit against HOST[:PORT] and print one JSON line of counts.

    PYTHONPATH=/opt/ssh-audit ssh-audit-counts HOST [PORT]

Counts the way ssh-audit's own report reads: an algorithm (key exchange, host key, cipher, MAC)
is a failure when any of its notes is [fail], else a warning when any is [warn]. A fresh Debian 12
sshd scores 6 failures and 11 warnings this way. The connection-rate (DHEat) test is skipped: it
opens dozens of connections, which OpenSSH 9.8+ answers with PerSourcePenalties and which would
disturb the probes that follow; it yields an [nfo] line, not a failure or a warning.
"""

import json
import subprocess
import sys


def main():
    host = sys.argv[1]
    port = sys.argv[2] if len(sys.argv) > 2 else "22"
    run = subprocess.run(
        [sys.executable, "-m", "ssh_audit", "--json", "--skip-rate-test", "--timeout=10", "-p", port, host],
        capture_output=True, text=True, check=False,
    )
    try:
        report = json.loads(run.stdout.splitlines()[0])
    except (ValueError, IndexError):
        print(json.dumps({"error": (run.stdout + run.stderr).strip()[-500:], "exit": run.returncode}))
        return 1
    failed, warned = [], []
    for kind in ("kex", "key", "enc", "mac"):
        for alg in report.get(kind, []):
            notes = alg.get("notes", {})
            name = f"{kind}:{alg.get('algorithm')}"
            if notes.get("fail"):
                failed.append(name)
            elif notes.get("warn"):
                warned.append(name)
    print(json.dumps({
        "failures": len(failed), "warnings": len(warned), "failed": failed, "warned": warned,
        "cves": len(report.get("cves", [])), "banner": report.get("banner", {}).get("raw"),
        "exit": run.returncode,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
