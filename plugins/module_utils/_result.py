# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The result contract every validation module of this collection follows.

A module returns::

    changed: false                 # they measure, they never change the box
    passed: true | false | null    # null: nothing was judged (no thresholds set, or skipped)
    checks: [ {name, status, value, threshold, unit, message}, ... ]
    metrics: {...}                 # the figures
    thresholds: {...}              # what the figures were judged against (null = not judged)
    failures: ["one sentence per failed check", ...]
    environment: {...}             # versions, devices
    msg: "one sentence"

``status`` of a check is one of ``passed``, ``failed``, ``skipped`` (could not run; ``message``
says why) and ``info`` (a figure reported without a threshold). The ``validation`` role turns each
check into one JUnit testcase and one row of the report.
"""

from __future__ import absolute_import, division, print_function

PASSED = "passed"
FAILED = "failed"
SKIPPED = "skipped"
INFO = "info"
STATUSES = (PASSED, FAILED, SKIPPED, INFO)


def _fmt(value, unit=None):
    if isinstance(value, float):
        text = ("%.3f" % value).rstrip("0").rstrip(".") if abs(value) < 100 else "%.1f" % value
    else:
        text = str(value)
    if unit:
        text += "%s%s" % ("" if unit in ("%",) else " ", unit)
    return text


def make_check(name, status, value=None, threshold=None, unit=None, message=None):
    if status not in STATUSES:
        raise ValueError("unknown check status %r" % (status,))
    return {
        "name": name,
        "status": status,
        "value": value,
        "threshold": threshold,
        "unit": unit,
        "message": message,
    }


def judge_min(name, label, value, minimum, unit=None, subject=None):
    """A check that passes when ``value >= minimum``; ``info`` when no minimum is set."""
    where = (" on %s" % subject) if subject else ""
    if value is None:
        return make_check(name, SKIPPED, None, minimum, unit, "%s%s could not be measured." % (label, where))
    if minimum is None:
        return make_check(name, INFO, value, None, unit, "%s%s is %s (no threshold set)." % (label, where, _fmt(value, unit)))
    if value >= minimum:
        return make_check(name, PASSED, value, {"min": minimum}, unit,
                          "%s%s is %s, at or above the minimum of %s." % (label, where, _fmt(value, unit), _fmt(minimum, unit)))
    return make_check(name, FAILED, value, {"min": minimum}, unit,
                      "%s%s is %s, below the minimum of %s." % (label, where, _fmt(value, unit), _fmt(minimum, unit)))


def judge_max(name, label, value, maximum, unit=None, subject=None):
    """A check that passes when ``value <= maximum``; ``info`` when no maximum is set."""
    where = (" on %s" % subject) if subject else ""
    if value is None:
        return make_check(name, SKIPPED, None, maximum, unit, "%s%s could not be measured." % (label, where))
    if maximum is None:
        return make_check(name, INFO, value, None, unit, "%s%s is %s (no threshold set)." % (label, where, _fmt(value, unit)))
    if value <= maximum:
        return make_check(name, PASSED, value, {"max": maximum}, unit,
                          "%s%s is %s, within the maximum of %s." % (label, where, _fmt(value, unit), _fmt(maximum, unit)))
    return make_check(name, FAILED, value, {"max": maximum}, unit,
                      "%s%s is %s, above the maximum of %s." % (label, where, _fmt(value, unit), _fmt(maximum, unit)))


def judge_equal(name, label, value, expected, unit=None):
    if value is None:
        return make_check(name, SKIPPED, None, expected, unit, "%s could not be measured." % label)
    if expected is None:
        return make_check(name, INFO, value, None, unit, "%s is %s (no expectation set)." % (label, _fmt(value, unit)))
    if value == expected:
        return make_check(name, PASSED, value, {"equals": expected}, unit, "%s is %s, as expected." % (label, _fmt(value, unit)))
    return make_check(name, FAILED, value, {"equals": expected}, unit,
                      "%s: expected %s, found %s." % (label, _fmt(expected, unit), _fmt(value, unit)))


def skipped(name, reason):
    return make_check(name, SKIPPED, message=reason)


def summarize(checks):
    """(passed, failures): passed is None when nothing was judged."""
    failures = [c["message"] for c in checks if c["status"] == FAILED]
    judged = [c for c in checks if c["status"] in (PASSED, FAILED)]
    if failures:
        return False, failures
    if judged:
        return True, []
    return None, []


def build_result(checks, metrics, thresholds, environment, msg=None, **extra):
    passed, failures = summarize(checks)
    if msg is None:
        if failures:
            msg = " ".join(failures)
        elif passed:
            msg = "All %d judged checks passed." % len([c for c in checks if c["status"] == PASSED])
        else:
            msg = "Nothing was judged: %s" % "; ".join(
                c["message"] for c in checks if c.get("message")) if checks else "Nothing was measured."
    result = {
        "changed": False,
        "passed": passed,
        "checks": checks,
        "metrics": metrics,
        "thresholds": thresholds,
        "failures": failures,
        "environment": environment,
        "msg": msg,
    }
    result.update(extra)
    return result


def exit_with(module, result, fail_on_threshold=True):
    """Exit an AnsibleModule with the contract's result: failed only if a check failed."""
    result["changed"] = False
    if fail_on_threshold and result.get("passed") is False:
        module.fail_json(**result)
    module.exit_json(**result)
