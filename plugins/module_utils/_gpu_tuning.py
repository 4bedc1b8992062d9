# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runtime tuning of a GPU box: persistence mode, power limit (the board's own maximum, never
above it) and the CPU frequency governor.

Used twice, so that there is one implementation: by the ``nvidia_tuning`` module (which reports
exactly what it changed and supports check mode), and as a plain script that the
``vaultcube-gpu-tuning.service`` unit of the ``nvidia_driver`` role runs at boot, because power
limits and governors do not survive a reboot:

    python3 gpu_tuning.py --persistence on --power-limit max --governor performance

GPU settings go through ``nvidia-smi`` (NVML's own command line tool, present wherever the
driver is), so the boot script needs no Python binding. Nothing here imports Ansible.
"""

from __future__ import absolute_import, division, print_function

import json
import math
import os
import re
import shutil
import sys

QUERY_FIELDS = ("index", "uuid", "name", "persistence_mode", "power.limit", "power.default_limit",
                "power.min_limit", "power.max_limit")
POWER_TOLERANCE_W = 0.5
CPUFREQ_ROOT = "/sys/devices/system/cpu/cpufreq"


def _number(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None  # "[N/A]", "[Not Supported]"


def parse_query(text):
    """Parse ``nvidia-smi --query-gpu=<QUERY_FIELDS> --format=csv,noheader,nounits``."""
    gpus = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        cells = [cell.strip() for cell in line.split(",")]
        if len(cells) < len(QUERY_FIELDS):
            raise ValueError("unexpected nvidia-smi output line: %s" % line)
        # A name may itself contain commas: everything between uuid and the last five cells.
        head, tail = cells[:2], cells[-5:]
        name = ", ".join(cells[2:-5])
        persistence = {"enabled": True, "disabled": False}.get(tail[0].lower())
        if not head[0].isdigit():
            raise ValueError("unexpected nvidia-smi output line: %s" % line)
        gpus.append({
            "index": int(head[0]),
            "uuid": head[1],
            "name": name,
            "persistence_mode": persistence,
            "power_limit_w": _number(tail[1]),
            "power_default_w": _number(tail[2]),
            "power_min_w": _number(tail[3]),
            "power_max_w": _number(tail[4]),
        })
    return gpus


def parse_power_limit(value):
    """None (leave alone), 'max', 'default' or a number of watts. Raises ValueError."""
    if value is None or str(value).strip() == "":
        return None
    text = str(value).strip().lower()
    if text in ("max", "default"):
        return text
    try:
        watts = float(text.rstrip("w").strip())
    except ValueError:
        raise ValueError("power limit must be max, default or a number of watts, got '%s'" % value)
    if not math.isfinite(watts):  # float() takes "nan" and "inf"; no comparison would catch NaN
        raise ValueError("power limit must be max, default or a finite number of watts, got '%s'" % value)
    if watts <= 0:
        raise ValueError("power limit must be above 0 W, got '%s'" % value)
    return watts


def _gpu_label(gpu):
    return "GPU %d (%s)" % (gpu["index"], gpu["name"])


def plan_gpu(gpu, persistence_mode, power_limit):
    """What to change on one GPU: (actions, errors, notes).

    ``actions`` are (nvidia-smi arguments, description) pairs; ``errors`` are sentences that stop
    everything before any change; ``notes`` say what was left alone and why.
    """
    actions, errors, notes = [], [], []
    index = str(gpu["index"])
    if persistence_mode is not None:
        if gpu["persistence_mode"] is None:
            notes.append("%s does not report persistence mode; left alone." % _gpu_label(gpu))
        elif gpu["persistence_mode"] != persistence_mode:
            actions.append((["-i", index, "-pm", "1" if persistence_mode else "0"],
                            "persistence mode %s" % ("on" if persistence_mode else "off")))
    if power_limit is not None:
        maximum, minimum, current = gpu["power_max_w"], gpu["power_min_w"], gpu["power_limit_w"]
        if maximum is None or current is None:
            notes.append("%s does not offer a settable power limit; left alone." % _gpu_label(gpu))
        else:
            if power_limit == "max":
                target = maximum
            elif power_limit == "default":
                target = gpu["power_default_w"] if gpu["power_default_w"] is not None else maximum
            else:
                target = power_limit
            if target > maximum + 1e-6:
                errors.append("The power limit of %g W asked for %s is above the board's maximum of %g W; the "
                              "limit is never set above the board's own maximum." % (target, _gpu_label(gpu), maximum))
            elif minimum is not None and target < minimum - 1e-6:
                errors.append("The power limit of %g W asked for %s is below the board's minimum of %g W."
                              % (target, _gpu_label(gpu), minimum))
            elif abs(current - target) > POWER_TOLERANCE_W:
                actions.append((["-i", index, "-pl", "%.2f" % target],
                                "power limit %g W -> %g W" % (current, target)))
    return actions, errors, notes


def read_governors(root=CPUFREQ_ROOT):
    """Each cpufreq policy's current and available governors; None when the host has no cpufreq."""
    try:
        names = sorted(n for n in os.listdir(root) if re.match(r"^policy\d+$", n))
    except OSError:
        return None
    if not names:
        return None
    policies = []
    for name in names:
        base = os.path.join(root, name)
        try:
            with open(os.path.join(base, "scaling_governor")) as handle:
                current = handle.read().strip()
            with open(os.path.join(base, "scaling_available_governors")) as handle:
                available = handle.read().split()
        except OSError:
            continue
        policies.append({"policy": name, "path": os.path.join(base, "scaling_governor"),
                         "current": current, "available": available})
    return policies or None


def plan_governor(policies, governor):
    """(changes, errors): the policies whose governor differs from ``governor``."""
    changes, errors = [], []
    for policy in policies:
        if governor not in policy["available"]:
            errors.append("The CPU governor %s is not offered by %s (it offers %s)." % (
                governor, policy["policy"], ", ".join(policy["available"]) or "none"))
        elif policy["current"] != governor:
            changes.append(policy)
    return changes, errors


def write_governor(path, governor):
    with open(path, "w") as handle:
        handle.write(governor)


def tune(run, nvidia_smi, persistence_mode=None, power_limit=None, governor=None, cpufreq_root=CPUFREQ_ROOT,
         check_mode=False, write=write_governor):
    """Plan everything, stop on any error before changing anything, then apply.

    ``run(argv)`` returns (rc, stdout, stderr). Returns a dict with ``changed``, ``gpus``, ``cpu``,
    ``errors`` (sentences; nothing was changed when there are some), ``notes`` and ``actions``.
    """
    result = {"changed": False, "gpus": [], "cpu": None, "errors": [], "notes": [], "actions": []}
    power_limit = parse_power_limit(power_limit)
    gpu_plans = []
    if persistence_mode is not None or power_limit is not None:
        if not nvidia_smi:
            result["notes"].append("nvidia-smi was not found (no NVIDIA driver yet); GPU settings left alone.")
        else:
            rc, out, err = run([nvidia_smi, "--query-gpu=" + ",".join(QUERY_FIELDS), "--format=csv,noheader,nounits"])
            if rc != 0:
                text = (err or out or "").strip().splitlines()
                result["notes"].append("nvidia-smi does not answer (%s); GPU settings left alone."
                                       % (text[0] if text else "exit %d" % rc))
            else:
                try:
                    gpus = parse_query(out)
                except ValueError as exc:
                    result["errors"].append("nvidia-smi answered something this module cannot read (%s); nothing was "
                                            "changed." % exc)
                    return result
                for gpu in gpus:
                    actions, errors, notes = plan_gpu(gpu, persistence_mode, power_limit)
                    gpu_plans.append((gpu, actions))
                    result["errors"].extend(errors)
                    result["notes"].extend(notes)
    cpu_changes = []
    if governor:
        policies = read_governors(cpufreq_root)
        if policies is None:
            result["notes"].append("This host has no CPU frequency scaling (%s); the governor was left alone."
                                   % cpufreq_root)
        else:
            cpu_changes, errors = plan_governor(policies, governor)
            result["errors"].extend(errors)
            result["cpu"] = {"governor": governor, "policies": len(policies),
                             "before": sorted(set(p["current"] for p in policies)),
                             "to_change": [p["policy"] for p in cpu_changes]}
    if result["errors"]:
        return result

    for gpu, actions in gpu_plans:
        entry = {"index": gpu["index"], "name": gpu["name"], "uuid": gpu["uuid"],
                 "persistence_mode": gpu["persistence_mode"], "power_limit_w": gpu["power_limit_w"],
                 "power_max_w": gpu["power_max_w"], "changes": [a[1] for a in actions]}
        result["gpus"].append(entry)
        for argv, description in actions:
            result["actions"].append("%s: %s" % (_gpu_label(gpu), description))
            result["changed"] = True
            if check_mode:
                continue
            rc, out, err = run([nvidia_smi] + argv)
            if rc != 0:
                text = (err or out or "").strip().splitlines()
                result["errors"].append("nvidia-smi could not set %s on %s: %s" % (
                    description, _gpu_label(gpu), text[-1] if text else "exit %d" % rc))
                return result
    for policy in cpu_changes:
        result["actions"].append("%s: governor %s -> %s" % (policy["policy"], policy["current"], governor))
        result["changed"] = True
        if check_mode:
            continue
        try:
            write(policy["path"], governor)
        except OSError as exc:
            result["errors"].append("The CPU governor of %s could not be set to %s: %s." % (
                policy["policy"], governor, exc))
            return result
    return result


def _subprocess_run(argv):
    import subprocess  # pylint: disable=import-outside-toplevel
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # pylint: disable=consider-using-with,ansible-bad-function
    out, err = proc.communicate()
    return proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def main(argv=None):
    """Boot-time entry point (see the module docstring). Exit 0 when everything is as asked."""
    import argparse  # pylint: disable=import-outside-toplevel
    parser = argparse.ArgumentParser(description="Apply the demo box's GPU and CPU runtime tuning.")
    parser.add_argument("--persistence", choices=["on", "off"])
    parser.add_argument("--power-limit", help="max, default or watts")
    parser.add_argument("--governor")
    parser.add_argument("--nvidia-smi", default=shutil.which("nvidia-smi"))
    args = parser.parse_args(argv)
    persistence = None if args.persistence is None else args.persistence == "on"
    try:
        result = tune(_subprocess_run, args.nvidia_smi, persistence, args.power_limit, args.governor)
    except ValueError as exc:
        result = {"errors": [str(exc)]}
    print(json.dumps(result, sort_keys=True))  # pylint: disable=ansible-bad-function
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())  # pylint: disable=ansible-bad-function
