#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

DOCUMENTATION = r"""
---
module: validation_report
short_description: Write one validation report (JSON, Markdown, JUnit XML, HTML, Prometheus, PDF) from module results
version_added: "0.1.0"
description:
  - Gathers the results of the collection's validation modules (C(gpu_facts), C(ddp_benchmark),
    C(stress_gpu), C(vllm_bench), ...) into one document, and writes it as JSON (for machines),
    Markdown (for humans), JUnit XML (one testcase per check, for CI), HTML (one self-contained
    file with inline SVG plots) and, on request, PDF.
  - An action plugin. When O(formats) holds V(markdown), V(html) or V(pdf), the whole report is
    rendered and written by the controller's Ansible process, which needs the task to run on the
    controller (delegated to C(localhost), as the C(validation) role does); on another host the task
    fails with that sentence before anything is written. Markdown and HTML are rendered from Jinja2
    templates shipped in the collection (C(templates/report/)); O(template_dir) overrides any of
    them by file name. The templates get one variable, C(report), the report JSON
    (docs/report-templates.md in the collection).
  - With only V(json), V(junit) and V(prometheus), the module runs on the task's host like any
    module (its connection, C(become)) and writes there - how the C(validation) role puts the
    Prometheus textfile on the validated host.
  - The PDF is the HTML printed by headless Chromium (C(chromium --headless=new --print-to-pdf)).
    Where Chromium is not installed, or cannot print, the other formats are written and the task
    warns with the reason; the PDF is never a requirement.
  - Each check of each module becomes one row and one testcase; a module that could not measure
    becomes an C(error) testcase carrying its message; a module the role did not run (for example
    no GPU) becomes a C(skipped) testcase carrying the reason.
  - The C(validation) role writes the report on the controller, then fails the play if the report
    says so - the report is always written first.
options:
  results:
    description:
      - One entry per module run, each V({module, result}) or V({module, skipped_reason}); an
        optional C(duration_s) is the module's wall time.
    type: list
    elements: dict
    required: true
  dest:
    description: Directory to write the report into; created if missing.
    type: path
    required: true
  host:
    description: Name of the host the report is about.
    type: str
    required: true
  basename:
    description: File name stem of the report files (a file name, without a slash).
    type: str
    default: validation-report
  formats:
    description:
      - Formats to write. V(markdown), V(html) and V(pdf) are made on the controller (the task must
        be delegated to C(localhost)); V(pdf) needs Chromium there (see O(chromium)), and without it
        the task warns and writes the others.
      - V(prometheus) writes Prometheus text format for node_exporter's textfile collector
        (C(<basename>.prom)) - per check C(vaultcube_validation_check_value),
        C(vaultcube_validation_check_threshold) (one series per bound) and
        C(vaultcube_validation_check_passed) (1/0), labelled C(host), C(module), C(check) and, for
        a check about one GPU, C(gpu); plus the report's verdict, counts by status and time. The
        C(validation) role writes it on the validated host when C(validation_prometheus_textfile_dir) is set.
    type: list
    elements: str
    choices: [json, markdown, junit, html, prometheus, pdf]
    default: [json, markdown, junit, html]
  metadata:
    description: Extra facts about the run shown in the report (versions, inventory, command).
    type: dict
    default: {}
  mode:
    description: File mode of the report files (octal, as a string).
    type: str
    default: "0644"
  template_dir:
    description:
      - Directory on the controller with templates that replace the shipped ones of the same file
        name (V(validation-report.md.j2), V(validation-report.html.j2), V(_macros.html.j2),
        V(_macros.md.j2), V(_style.css.j2)); a name it lacks comes from the collection. A
        template can extend the shipped one as V(builtin/<name>) and override its blocks.
      - Unset, the shipped templates are used.
    type: path
  chromium:
    description:
      - Chromium executable (a path or a command name) that prints the PDF.
      - Unset, V(chromium), V(chromium-browser), V(google-chrome) and V(google-chrome-stable) are
        looked for in E(PATH).
    type: str
attributes:
  action:
    support: full
    description: An action plugin; the module itself runs on the host only for V(json), V(junit) and V(prometheus).
  check_mode:
    support: full
    description: In check mode the report is built, rendered and returned, and nothing is written.
  diff_mode:
    support: none
    description: Nothing to show as a diff.
notes:
  - C(changed) is V(true) when a report file was written with new content; the report carries a
    timestamp, so every run that writes reports changed.
  - Everything is rendered before anything is written; a template that does not render fails the
    task with the template's name and line, and leaves the report directory as it was.
author:
  - VaultCube engineering (@vaultcube)
"""

EXAMPLES = r"""
- name: Write the report.
  vaultcube.demobox.validation_report:
    host: "{{ inventory_hostname }}"
    dest: "{{ playbook_dir }}/reports/{{ inventory_hostname }}"
    results:
      - module: gpu_facts
        result: "{{ gpu_facts_result }}"
      - module: stress_gpu
        skipped_reason: "No NVIDIA GPU on this host."
  delegate_to: localhost

- name: Write it for node_exporter on the validated host.
  vaultcube.demobox.validation_report:
    host: "{{ inventory_hostname }}"
    dest: /var/lib/prometheus/node-exporter
    basename: vaultcube_validation
    results: "{{ validation__results }}"
    formats: [prometheus]
  become: true

- name: Write it with my own HTML template, and as PDF too.
  vaultcube.demobox.validation_report:
    host: "{{ inventory_hostname }}"
    dest: "{{ playbook_dir }}/reports/{{ inventory_hostname }}"
    results: "{{ validation__results }}"
    formats: [json, markdown, junit, html, pdf]
    template_dir: "{{ playbook_dir }}/report-templates"
  delegate_to: localhost
"""

RETURN = r"""
passed:
  description:
    - V(true) when at least one check passed and none failed or errored; V(false) when any check
      failed or any module could not measure; V(null) when nothing was judged (see RV(verdict)).
  returned: always
  type: bool
verdict:
  description:
    - What the checks add up to - C(PASSED), C(FAILED), C(NOT JUDGED) (figures measured, every
      threshold null) or C(NOTHING MEASURED) (no check ran; a report of skipped checks never passes).
  returned: always
  type: str
  sample: NOTHING MEASURED
verdict_reason:
  description: One sentence behind the verdict; for C(NOTHING MEASURED) it names each skipped check and why.
  returned: always
  type: str
  sample: "Nothing was measured: every check was skipped (stress_gpu: No NVIDIA GPU on this host)."
skipped_checks:
  description: Each skipped check with the reason it did not run.
  returned: always
  type: list
  elements: dict
  sample: [{"check": "stress_gpu", "module": "stress_gpu", "reason": "No NVIDIA GPU on this host."}]
summary:
  description: Number of checks per status (C(passed), C(failed), C(error), C(skipped), C(info), C(total)).
  returned: always
  type: dict
  sample: {"passed": 3, "failed": 0, "error": 0, "skipped": 4, "info": 2, "total": 9}
failures:
  description: The sentence of every failed or errored check.
  returned: always
  type: list
  elements: str
files:
  description: Paths of the report files, by format (a PDF that could not be made is not listed).
  returned: always
  type: dict
  sample: {"json": "/srv/reports/box1/validation-report.json"}
report:
  description: The report document (the JSON form).
  returned: always
  type: dict
"""

import datetime
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vaultcube.demobox.plugins.module_utils import _report


def main():
    # Reached through the action (plugins/action/validation_report.py) when the task writes only
    # json, junit or prometheus: then it runs on the task's host, with its connection and become.
    module = AnsibleModule(argument_spec=_report.ARGUMENT_SPEC, supports_check_mode=True)
    params = module.params
    bad = _report.check_entries(params["results"])
    if bad:
        module.fail_json(msg=bad)
    mode, bad = _report.check_options(params)
    if bad:
        module.fail_json(msg=bad)
    if any(fmt in _report.CONTROLLER_FORMATS for fmt in params["formats"]):
        module.fail_json(msg=_report.CONTROLLER_ONLY)
    generated = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()
    report = _report.build(params["results"], params["host"], generated, params["metadata"])
    formats = list(dict.fromkeys(params["formats"]))
    if not module.check_mode and not os.path.isdir(params["dest"]):
        try:
            os.makedirs(params["dest"])
        except OSError as exc:
            module.fail_json(msg="Cannot create the report directory %s: %s." % (params["dest"], exc))
    try:
        files, changed = _report.write(report, params["dest"], params["basename"], formats, mode,
                                       dry_run=module.check_mode)
    except OSError as exc:
        module.fail_json(msg="Cannot write the report %s: %s." % (exc.filename or params["dest"], exc.strerror or exc),
                         detail=str(exc))
    module.exit_json(**_report.task_result(report, files, changed))


if __name__ == "__main__":
    main()
