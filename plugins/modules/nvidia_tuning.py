#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

DOCUMENTATION = r"""
---
module: nvidia_tuning
short_description: Set GPU persistence mode, the GPU power limit (never above the board's maximum) and the CPU governor
version_added: "0.1.0"
description:
  - Turns persistence mode on, sets each GPU's power limit to the board's own maximum as
    C(nvidia-smi) (NVML) reports it, and sets the CPU frequency governor, changing only what
    differs and reporting exactly what it changed.
  - A power limit above a board's maximum (or below its minimum) is refused with one sentence,
    before anything is changed. The board's maximum is read from the board, never assumed (an
    RTX 5090 reports 575 W; a hard-coded 450 W would throttle it).
  - A host where C(nvidia-smi) does not answer (no driver yet, or a reboot pending) or that has no
    CPU frequency scaling (a VM, a container) is not an error; the module says what it left alone.
  - In check mode nothing is set; the module reports what it would change.
  - Power limits and governors do not survive a reboot; the C(nvidia_driver) role also installs
    this module's logic as a boot-time unit.
options:
  persistence_mode:
    description:
      - V(true) turns persistence mode on, V(false) off; unset leaves it alone.
    type: bool
  power_limit:
    description:
      - V(max) (the board's own maximum), V(default) (the board's default) or a number of watts;
        unset leaves the power limit alone.
    type: str
  cpu_governor:
    description:
      - CPU frequency governor for every cpufreq policy, for example V(performance); unset leaves it alone.
    type: str
  nvidia_smi:
    description:
      - Path of C(nvidia-smi); found on PATH (and in C(/usr/local/nvidia/bin)) when unset.
    type: path
  cpufreq_path:
    description:
      - The cpufreq sysfs directory.
    type: path
    default: /sys/devices/system/cpu/cpufreq
requirements:
  - The NVIDIA driver (C(nvidia-smi)) for the GPU settings; root to change them.
author:
  - VaultCube engineering (@vaultcube)
"""

EXAMPLES = r"""
- name: Persistence on, each GPU at its board's maximum power limit, CPUs at full speed.
  vaultcube.demobox.nvidia_tuning:
    persistence_mode: true
    power_limit: max
    cpu_governor: performance

- name: Show what would change, changing nothing.
  vaultcube.demobox.nvidia_tuning:
    persistence_mode: true
    power_limit: max
  check_mode: true
"""

RETURN = r"""
changed:
  description: Whether a setting was (or, in check mode, would be) changed.
  returned: always
  type: bool
actions:
  description: One line per setting changed (or that would be changed in check mode).
  returned: always
  type: list
  elements: str
  sample: ["GPU 0 (NVIDIA GeForce RTX 5090): power limit 450 W -> 575 W"]
gpus:
  description: Each GPU's settings before the change, and the changes made.
  returned: always
  type: list
  elements: dict
  sample: [{"index": 0, "name": "NVIDIA H200", "persistence_mode": true, "power_limit_w": 700.0,
            "power_max_w": 700.0, "changes": []}]
cpu:
  description: The governor asked for, the number of cpufreq policies, their governors before, and those changed.
  returned: always
  type: dict
notes:
  description: What was left alone and why.
  returned: always
  type: list
  elements: str
msg:
  description: One sentence.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vaultcube.demobox.plugins.module_utils import _gpu_tuning as T


def main():
    module = AnsibleModule(
        argument_spec=dict(
            persistence_mode=dict(type="bool"),
            power_limit=dict(type="str"),
            cpu_governor=dict(type="str"),
            nvidia_smi=dict(type="path"),
            cpufreq_path=dict(type="path", default=T.CPUFREQ_ROOT),
        ),
        supports_check_mode=True,
    )
    params = module.params
    try:
        T.parse_power_limit(params["power_limit"])
    except ValueError as exc:
        module.fail_json(msg="%s." % exc)
    smi = params["nvidia_smi"] or module.get_bin_path("nvidia-smi", opt_dirs=["/usr/local/nvidia/bin"])

    def run(argv):
        return module.run_command(argv)

    try:
        result = T.tune(run, smi, params["persistence_mode"], params["power_limit"], params["cpu_governor"],
                        params["cpufreq_path"], check_mode=module.check_mode)
    except Exception as exc:  # pylint: disable=broad-except
        # The boundary: whatever the host answers, the user gets one sentence, not a traceback.
        module.fail_json(msg="The tuning could not be planned or applied: %s." % str(exc).rstrip("."),
                         detail=repr(exc), changed=False)
    errors = result.pop("errors")
    if result["actions"]:
        verb = "Would change" if module.check_mode else "Changed"
        msg = "%s %d setting(s): %s." % (verb, len(result["actions"]), "; ".join(result["actions"]))
    else:
        msg = "Every setting asked for was already in place."
    if result["notes"]:
        msg += " " + " ".join(result["notes"])
    if errors:
        module.fail_json(msg=" ".join(errors), **result)
    module.exit_json(msg=msg, **result)


if __name__ == "__main__":
    main()
