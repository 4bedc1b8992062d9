# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function


class ModuleDocFragment(object):  # pylint: disable=too-few-public-methods
    """Options and attributes shared by the collection's GPU modules.

    The argument specs these document are declared once too, in plugins/module_utils/_args.py.
    """

    # Every module that judges what it measured (the result contract).
    DOCUMENTATION = r"""
options:
  fail_on_threshold:
    description:
      - Fail the task when a judged check fails. The C(validation) role sets this to V(false) so
        that it can write the whole report before it fails the play.
      - Errors that stop the measurement itself (bad parameters, a crashed worker) always fail.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: In check mode the module says what it would run (or, for read-only queries, runs them).
  diff_mode:
    support: none
    description: Nothing to show as a diff.
notes:
  - Results follow the collection's validation contract - C(passed), C(checks), C(metrics),
    C(thresholds), C(failures), C(environment) - described in docs/architecture.md.
  - The module measures and never changes the host, so C(changed) is always V(false).
"""

    # Every module that reads NVML (with the section above: group/vaultcube.demobox.gpu).
    NVML = r"""
options:
  binding_search_paths:
    description:
      - Glob patterns of site-packages folders searched for C(pynvml) (nvidia-ml-py) when the
        interpreter running the module does not have it. The module reads NVML in its own
        process; the binding is pure Python, so the AI venv's copy serves any Python 3.
    type: list
    elements: str
    default: ['/opt/vaultcube/venv/lib/python3*/site-packages']
"""

    # Every module that runs a worker process (group/vaultcube.demobox.gpu_workers).
    WORKER = r"""
options:
  worker_python:
    description:
      - Interpreter that runs the module's worker process (what it must import is under
        C(requirements)). Default - C(/opt/vaultcube/venv/bin/python) (the AI venv the
        C(ai_frameworks) role makes) when it exists, else the interpreter running the module.
      - The names C(python) and C(python_interpreter) are deprecated aliases, to be removed in
        vaultcube.demobox 1.0.0.
    type: path
    aliases: [python, python_interpreter]
"""

    # The groups of a module that reads NVML and runs a worker (ai_frameworks_facts, ddp_benchmark,
    # stress_gpu, vllm_bench). A module in one group only documents its own action_group.
    ACTION_GROUPS = r"""
attributes:
  action_group:
    support: full
    membership:
      - vaultcube.demobox.gpu
      - vaultcube.demobox.gpu_workers
    description: Set its shared options once with C(module_defaults) and C(group/vaultcube.demobox.gpu) or C(group/vaultcube.demobox.gpu_workers).
"""
