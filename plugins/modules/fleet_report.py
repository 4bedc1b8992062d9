#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

DOCUMENTATION = r"""
---
module: fleet_report
short_description: Judge many hosts' validation reports as one fleet (JSON, Markdown, JUnit, HTML)
version_added: "0.2.0"
description:
  - Reads the validation report JSON of every host of a C(vaultcube.demobox.validate) run from the
    controller's report directory and writes one fleet report beside them - a host x check matrix
    of verdicts, outliers, version drift and the change since each host's previous run - as JSON,
    Markdown, JUnit XML (one testsuite per host) and HTML (per check, bars of each host's figure
    beside the fleet median and the baseline).
  - "Outliers: a figure (a number whose check has a C(min) or C(max) threshold, or a unit such as
    samples/s, TFLOP/s, GB/s, C, ms) more than O(tolerance_pct) percent on the bad side of the fleet
    median (three hosts or more) or of the baseline's figure. Higher is worse for temperatures and
    latencies, lower is worse for throughput."
  - "Version drift: driver, CUDA, torch, vLLM, kernel, OS, the image version (C(image_version) of
    O(host_info)) and the collection version; a host whose version differs from the fleet's most
    common one (or the baseline's) is named."
  - Hosts that failed or were unreachable are in the report, marked so, with the reason.
  - History - each host keeps its last O(history_keep) runs as small JSON files under
    C(<its report directory>/history/); the report shows each figure's change since the host's
    previous run.
  - "An action plugin that runs only on the controller (C(delegate_to: localhost), C(run_once))."
options:
  hosts:
    description: Every host of the run (C(ansible_play_hosts_all)).
    type: list
    elements: str
    required: true
  reachable:
    description: The hosts still in the play (C(ansible_play_hosts)); the others are marked unreachable. Unset, all are taken as reachable.
    type: list
    elements: str
  host_info:
    description:
      - Per host, a mapping of C(report) (the path of its validation report JSON), C(status)
        (V(ok) or V(failed)), C(message) (why it failed) and C(image_version).
    type: dict
    default: {}
  dest:
    description: Directory on the controller for the fleet report files (C(fleet-report.*)); made if missing.
    type: path
    required: true
  formats:
    description: Formats to write.
    type: list
    elements: str
    choices: [json, markdown, junit, html]
    default: [json, markdown, junit, html]
  tolerance_pct:
    description: How many percent a figure may be on the bad side of the median or the baseline before it is an outlier (more than 0, at most 1000).
    type: raw
    default: 10.0
  tolerances:
    description: "Per check name, a tolerance in percent that replaces O(tolerance_pct), for example V({ddp_benchmark.throughput: 5})."
    type: raw
    default: {}
  baseline:
    description:
      - The baseline to compare with - C(vaultcube_fleet_baseline) as the C(calibrate) playbook writes it
        (C(figures), C(versions), C(source), C(date)). Unset or null, hosts are compared with the fleet median only.
    type: raw
  history_keep:
    description: How many runs each host keeps in its history (1 or more).
    type: int
    default: 10
  since:
    description: When this run started (ISO 8601); a host report generated before it is from an earlier run and is not used.
    type: str
  template_dir:
    description: Directory whose templates (V(fleet-report.md.j2), V(fleet-report.html.j2), the validation report's macros) replace the shipped ones.
    type: path
attributes:
  check_mode:
    support: full
    description: In check mode the fleet report is built and returned, and nothing is written.
  diff_mode:
    support: none
    description: Nothing to show as a diff.
notes:
  - C(changed) is V(true) when a file was written (the report carries a timestamp).
author:
  - VaultCube engineering (@vaultcube)
"""

EXAMPLES = r"""
- name: Write the fleet report once every host is done.
  vaultcube.demobox.fleet_report:
    hosts: "{{ ansible_play_hosts_all }}"
    reachable: "{{ ansible_play_hosts }}"
    host_info: "{{ dict(ansible_play_hosts | zip(ansible_play_hosts | map('extract', hostvars, 'vaultcube_fleet_host'))) }}"
    dest: "{{ playbook_dir }}/reports/fleet"
    tolerance_pct: 10
    baseline: "{{ vaultcube_fleet_baseline | default(none) }}"
  run_once: true
  delegate_to: localhost
"""

RETURN = r"""
passed:
  description: True when every host passed, with no outlier and no version drift.
  returned: success
  type: bool
verdict:
  description: V(PASSED) or V(FAILED).
  returned: success
  type: str
verdict_reason:
  description: One sentence saying why.
  returned: success
  type: str
counts:
  description: Hosts by status (C(ok), C(failed), C(unreachable), C(total)) and the numbers of outliers and drifts.
  returned: success
  type: dict
outliers:
  description:
    - One entry per outlying figure - C(host), C(check), C(value), C(unit), C(reference),
      C(reference_kind) (median or baseline), C(deviation_pct), C(sentence).
  returned: success
  type: list
  elements: dict
drift:
  description: One entry per component whose version differs - C(component), C(expected), C(versions) by host, C(hosts), C(sentence).
  returned: success
  type: list
  elements: dict
files:
  description: The files written, by format.
  returned: success
  type: dict
history:
  description: The history file written for each host.
  returned: success
  type: dict
report:
  description: The whole fleet report document (the JSON file's content).
  returned: success
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vaultcube.demobox.plugins.module_utils import _fleet


def main():
    module = AnsibleModule(argument_spec=_fleet.ARGUMENT_SPEC, supports_check_mode=True)
    module.fail_json(msg=_fleet.CONTROLLER_ONLY % "fleet_report")


if __name__ == "__main__":
    main()
