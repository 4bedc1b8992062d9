#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

DOCUMENTATION = r"""
---
module: fleet_calibrate
short_description: Write a baseline thresholds file (group_vars YAML) from a fleet report
version_added: "0.2.0"
description:
  - Reads the fleet report JSON of a validation run (C(fleet_report)) and writes a group_vars
    YAML file that later C(vaultcube.demobox.validate) runs use - the validation role's threshold
    variables it knows (C(validation_ddp_min_throughput), C(validation_min_scaling_efficiency),
    C(validation_vllm_min_output_tokens_per_s), C(validation_bandwidth_min_busbw)) and
    C(vaultcube_fleet_baseline) (every comparable figure, its threshold and margin, the versions),
    each with its source host, date and figure in comments.
  - A threshold is the figure less O(margin_pct) where higher is better, plus it where lower is better.
  - When O(dest) already holds a baseline, the result (and C(msg)) says what moved since.
  - An action plugin that runs only on the controller.
options:
  fleet_report:
    description: The fleet report JSON (C(fleet-report.json)) of the run to calibrate from.
    type: path
    required: true
  dest:
    description: The YAML file to write, for example C(inventory/group_vars/all/vaultcube_baseline.yml).
    type: path
    required: true
  source:
    description: V(median) (the fleet median of each figure) or the name of a known-good host of the run, whose validation must have passed.
    type: str
    default: median
  margin_pct:
    description: The margin in percent between a figure and its threshold (more than 0, at most 100).
    type: raw
    default: 10
attributes:
  check_mode:
    support: full
    description: In check mode the baseline is computed and returned, and nothing is written.
  diff_mode:
    support: none
    description: Nothing to show as a diff.
author:
  - VaultCube engineering (@vaultcube)
"""

EXAMPLES = r"""
- name: Calibrate from the known-good box.
  vaultcube.demobox.fleet_calibrate:
    fleet_report: "{{ playbook_dir }}/reports/fleet/fleet-report.json"
    dest: "{{ inventory_dir }}/group_vars/all/vaultcube_baseline.yml"
    source: box1
    margin_pct: 10
  run_once: true
  delegate_to: localhost
"""

RETURN = r"""
baseline:
  description: C(source), C(date), C(margin_pct), C(figures), C(thresholds) (role variables), C(versions), C(rows) (one per figure), C(moved).
  returned: success
  type: dict
moved:
  description: One line per figure that moved since the previous baseline in O(dest) (empty on the first calibration).
  returned: success
  type: list
  elements: str
file:
  description: The file written.
  returned: success
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vaultcube.demobox.plugins.module_utils import _fleet


def main():
    module = AnsibleModule(argument_spec=_fleet.CALIBRATE_SPEC, supports_check_mode=True)
    module.fail_json(msg=_fleet.CONTROLLER_ONLY % "fleet_calibrate")


if __name__ == "__main__":
    main()
