# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters the ai_frameworks role plans with (documentation beside this file, one YAML per filter)."""

from __future__ import absolute_import, division, print_function

from ansible_collections.vaultcube.demobox.plugins.module_utils import _frameworks


def ai_frameworks_plan(facts, matrix, requested="auto", torch=True, tensorflow=None, vllm=None, jupyter=False):
    """The install plan for a host, or {'error': 'one sentence'} (the role fails with it)."""
    try:
        result = _frameworks.plan(facts or {}, matrix or {}, requested, torch=torch, tensorflow=tensorflow,
                                  vllm=vllm, jupyter=jupyter)
    except _frameworks.PlanError as exc:
        return {"error": str(exc)}
    result["error"] = None
    return result


def pip_failure(output, source, python=None):
    """One sentence for a failed pip run, naming the package and the source tried."""
    return _frameworks.pip_failure(output, source, python)


def pip_specs(packages):
    """{name: version} -> ['name==version', ...] (sorted; a null version leaves the package out)."""
    return _frameworks.pip_specs(packages)


class FilterModule(object):  # pylint: disable=too-few-public-methods
    def filters(self):
        return {
            "ai_frameworks_plan": ai_frameworks_plan,
            "pip_failure": pip_failure,
            "pip_specs": pip_specs,
        }
