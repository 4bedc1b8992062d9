#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# This file is documentation only: the work is done by the action plugin of the same name
# (plugins/action/job_progress.py), on the controller.

from __future__ import absolute_import, division, print_function

DOCUMENTATION = r"""
---
module: job_progress
short_description: Follow an async measurement to its end with a progress line every interval; stop it cleanly on Ctrl-C
version_added: "0.1.0"
description:
  - Waits for a job started with C(async) and C(poll=0) (a C(stress_gpu), C(ddp_benchmark) or
    C(vllm_bench) task) and returns that job's result as its own, so the rest of a play uses it
    as if the task had run in the foreground.
  - Every O(interval) seconds prints one line in ansible-playbook's output - the phase,
    elapsed and expected time, the current figure and the errors so far (from O(progress_file)
    when the job writes one) and the temperature and power of each GPU (NVML, through
    C(gpu_facts)). The lines go through Ansible's display, so they show with any stdout callback.
  - On Ctrl-C (SIGINT) or SIGTERM to ansible-playbook, stops the job - SIGTERM to every process
    carrying the O(marker) in its environment, its result awaited for O(stop_grace) seconds, then
    SIGKILL to whatever is left - and writes the report given in O(report) with what was measured
    so far and an C(error) row C(<name>.interrupted) saying so; the report's JSON has
    C(interrupted=true). ansible-playbook ends the play at once ("User interrupted execution")
    and exits once this cleanup is done, a few seconds later; one Ctrl-C is enough.
  - The job must run as the same user as this task (the same C(become)), since C(async_status)
    reads the job's file from that user's home.
options:
  jid:
    description: The job id, C(ansible_job_id) of the registered async task.
    type: str
    required: true
  name:
    description: What the job measures, as the progress lines and the report name it (the module name).
    type: str
    required: true
  interval:
    description: Seconds between two progress lines (and two polls of the job); more than 0.
    type: float
    default: 30
  expected_s:
    description: Expected duration of the job in seconds, shown as elapsed of expected with a percentage.
    type: float
  marker:
    description:
      - Value of the C(VAULTCUBE_JOB) environment variable the async task was started with
        (C(environment) of that task). Every process of the job inherits it; on an interrupt they
        are found by it. Without it an interrupt cannot stop the job.
    type: str
  progress_file:
    description:
      - JSON file on the host the job rewrites with C(phase), C(figure) (C({value, unit})) and
        C(errors) (ddp_benchmark's rank 0 writes one where C(VAULTCUBE_PROGRESS_FILE) in its
        environment names it). Read every interval when it exists; missing or unreadable is not an
        error. Removed when the job ends.
    type: path
  csv_file:
    description:
      - stress_gpu's telemetry CSV (its O(vaultcube.demobox.stress_gpu#module:csv_path)) on the host. Its header
        and last rows give the phase, the TFLOP/s of the last window (summed over the GPUs), the
        temperature and power of each GPU and the errors so far (mismatching results and XID
        events); when it has rows, no C(gpu_facts) read is needed.
    type: path
  gpu_telemetry:
    description: Read the temperature and power of each GPU (C(gpu_facts)) for every line.
    type: bool
    default: true
  gpu_facts_args:
    description: Options for that C(gpu_facts) read, for example C(binding_search_paths).
    type: dict
    default: {}
  stop_grace:
    description: Seconds to wait for the job to end after SIGTERM before SIGKILL.
    type: float
    default: 30
  heartbeat:
    description:
      - A file on the host touched at every poll, for a watchdog there that stops the job when
        the playbook stops following it without a signal (ansible-playbook killed, the connection
        lost); playbooks/stress.yml runs such a watchdog.
    type: path
  report:
    description: The report written on the controller when the run is interrupted (as C(validation_report) writes it).
    type: dict
    suboptions:
      dest:
        description: Directory on the controller.
        type: path
        required: true
      host:
        description: Name of the host the report is about.
        type: str
        required: true
      basename:
        description: File name stem.
        type: str
        default: validation-report
      results:
        description: The results measured before this job (entries as C(validation_report) takes them).
        type: list
        elements: dict
        default: []
      formats:
        description:
          - Formats to write; Markdown and HTML from the same templates as C(validation_report), V(pdf)
            printed by Chromium.
        type: list
        elements: str
        choices: [json, markdown, junit, html, prometheus, pdf]
        default: [json, markdown, junit, html]
      metadata:
        description: Extra facts about the run shown in the report.
        type: dict
        default: {}
      template_dir:
        description:
          - Directory on the controller whose templates replace the shipped ones
            (O(vaultcube.demobox.validation_report#module:template_dir)).
        type: path
      chromium:
        description: Chromium that prints the PDF (O(vaultcube.demobox.validation_report#module:chromium)).
        type: str
attributes:
  check_mode:
    support: none
    description: An async job does not run in check mode; do not run this in check mode either.
  diff_mode:
    support: none
    description: Nothing to show as a diff.
  action:
    support: full
    description: An action plugin does the work on the controller.
notes:
  - While the job runs, each line costs one C(async_status) call on the host, plus a C(command)
    (with O(csv_file)), a C(slurp) (with O(progress_file)) or a C(gpu_facts) read.
author:
  - VaultCube engineering (@vaultcube)
"""

EXAMPLES = r"""
- name: Name this run (set once; a random value in vars would change at every use).
  ansible.builtin.set_fact:
    burn_in_marker: "{{ lookup('ansible.builtin.password', '/dev/null', chars=['ascii_lowercase', 'digits'], length=16) }}"

- name: Start the burn-in in the background.
  vaultcube.demobox.stress_gpu:
    duration: 3600
  async: 5400
  poll: 0
  environment:
    VAULTCUBE_JOB: "{{ burn_in_marker }}"
  register: burn_in_job

- name: Follow it, a line every 30 s; Ctrl-C stops it and writes the report so far.
  vaultcube.demobox.job_progress:
    jid: "{{ burn_in_job.ansible_job_id }}"
    name: stress_gpu
    expected_s: 3600
    marker: "{{ burn_in_marker }}"
    report:
      dest: "{{ playbook_dir }}/reports/{{ inventory_hostname }}"
      host: "{{ inventory_hostname }}"
      basename: stress-report
  register: burn_in
"""

RETURN = r"""
msg:
  description: The job's own message; when interrupted, what stopped it, after how long, and the last progress line.
  returned: always
  type: str
interrupted:
  description: V(true) when Ctrl-C or SIGTERM stopped the job.
  returned: when interrupted
  type: bool
progress_lines:
  description: Number of progress lines printed while the job ran.
  returned: when the job ended by itself
  type: int
report_files:
  description: Paths of the report files written because of the interrupt, by format.
  returned: when interrupted
  type: dict
killed_after_grace:
  description: Number of processes still alive after O(stop_grace) and killed with SIGKILL.
  returned: when interrupted
  type: int
"""
