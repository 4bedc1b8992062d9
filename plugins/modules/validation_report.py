#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

DOCUMENTATION = r"""
---
module: validation_report
short_description: Write one validation report (JSON, Markdown, JUnit XML, HTML) from module results
version_added: "0.1.0"
description:
  - Gathers the results of the collection's validation modules (C(gpu_facts), C(ddp_benchmark),
    C(stress_gpu), C(vllm_bench), ...) into one document, and writes it as JSON (for machines),
    Markdown (for humans), JUnit XML (one testcase per check, for CI) and HTML (with plots).
  - Each check of each module becomes one row and one testcase; a module that could not measure
    becomes an C(error) testcase carrying its message; a module the role did not run (for example
    no GPU) becomes a C(skipped) testcase carrying the reason.
  - The C(validation) role runs this module on the controller, then fails the play if the report
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
    description: File name stem of the report files.
    type: str
    default: validation-report
  formats:
    description:
      - Formats to write.
      - V(prometheus) writes Prometheus text format for node_exporter's textfile collector
        (C(<basename>.prom)) - per check C(vaultcube_validation_check_value),
        C(vaultcube_validation_check_threshold) (one series per bound) and
        C(vaultcube_validation_check_passed) (1/0), labelled C(host), C(module), C(check) and, for
        a check about one GPU, C(gpu); plus the report's verdict, counts by status and time. The
        C(validation) role writes it on the validated host when C(validation_prometheus_textfile_dir) is set.
    type: list
    elements: str
    choices: [json, markdown, junit, html, prometheus]
    default: [json, markdown, junit, html]
  metadata:
    description: Extra facts about the run shown in the report (versions, inventory, command).
    type: dict
    default: {}
  mode:
    description: File mode of the report files.
    type: str
    default: "0644"
attributes:
  check_mode:
    support: full
    description: In check mode the report is built and returned, and nothing is written.
  diff_mode:
    support: none
    description: Nothing to show as a diff.
notes:
  - C(changed) is V(true) when a report file was written with new content; the report carries a
    timestamp, so every run that writes reports changed.
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
  description: Paths of the report files, by format.
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
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes

from ansible_collections.vaultcube.demobox.plugins.module_utils import _report


def _same_content(path, data):
    try:
        with open(path, "rb") as handle:
            return handle.read() == data
    except OSError:
        return False


def main():
    module = AnsibleModule(
        argument_spec=dict(
            results=dict(type="list", elements="dict", required=True),
            dest=dict(type="path", required=True),
            host=dict(type="str", required=True),
            basename=dict(type="str", default="validation-report"),
            formats=dict(type="list", elements="str", choices=list(_report.RENDERERS),
                         default=list(_report.DEFAULT_FORMATS)),
            metadata=dict(type="dict", default={}),
            mode=dict(type="str", default="0644"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    for index, entry in enumerate(params["results"]):
        if not entry.get("module"):
            module.fail_json(msg="results[%d] has no 'module' name." % index)
        if "result" not in entry and "skipped_reason" not in entry:
            module.fail_json(msg="results[%d] (%s) needs either 'result' or 'skipped_reason'." % (index, entry["module"]))
        if "result" in entry and not isinstance(entry["result"], dict):
            module.fail_json(msg="results[%d] (%s): 'result' must be a module result (a dict)." % (index, entry["module"]))

    generated = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()
    report = _report.build(params["results"], params["host"], generated, params["metadata"])

    if "/" in params["basename"] or params["basename"].strip(".") == "":
        module.fail_json(msg="basename must be a file name without a slash, such as validation-report, not '%s'."
                         % params["basename"])
    try:
        mode = int(params["mode"], 8)
    except ValueError:
        mode = -1
    if not 0 <= mode <= 0o7777:
        module.fail_json(msg="mode must be an octal file mode such as 0644, not %s." % params["mode"])
    files = {}
    changed = False
    dest = params["dest"]
    if not module.check_mode and not os.path.isdir(dest):
        try:
            os.makedirs(dest)
        except OSError as exc:
            module.fail_json(msg="Cannot create the report directory %s: %s." % (dest, exc))
    for fmt in params["formats"]:
        suffix, render = _report.RENDERERS[fmt]
        path = os.path.join(dest, "%s.%s" % (params["basename"], suffix))
        files[fmt] = path
        data = to_bytes(render(report))
        if module.check_mode or _same_content(path, data):
            continue
        tmp = None
        try:
            fd, tmp = tempfile.mkstemp(dir=dest, prefix=".%s." % params["basename"])
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.chmod(tmp, mode)
        except OSError as exc:
            if tmp and os.path.exists(tmp):
                os.remove(tmp)
            module.fail_json(msg="Cannot write the report %s: %s." % (path, exc.strerror or exc), detail=str(exc),
                             files=files)
        module.atomic_move(tmp, path)
        changed = True

    s = report["summary"]
    msg = "Report %s for %s: %d passed, %d failed, %d errors, %d skipped, %d info. %s" % (
        report["verdict"], params["host"], s["passed"], s["failed"], s["error"],
        s["skipped"], s["info"], report["verdict_reason"])
    module.exit_json(changed=changed, passed=report["passed"], verdict=report["verdict"],
                     verdict_reason=report["verdict_reason"], skipped_checks=report["skipped_checks"], summary=s,
                     failures=report["failures"], files=files, report=report, msg=msg)


if __name__ == "__main__":
    main()
