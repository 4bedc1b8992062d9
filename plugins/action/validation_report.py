# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The validation_report action (documentation: plugins/modules/validation_report.py).

Markdown, HTML and PDF are rendered on the controller: they need Jinja2, the collection's
template files and Chromium, none of which a module has on its target (only module_utils .py
files travel with it). When the task asks for one of them, the whole report is written here, and
the task must run on the controller (delegate_to: localhost). A task that asks only for the
formats module_utils renders (json, junit, prometheus) runs the module on its host, with its
connection and become: that is how the Prometheus textfile lands on the validated host. Each
format has one implementation either way (docs/architecture.md, "The report").
"""

from __future__ import absolute_import, division, print_function

from ansible.plugins.action import ActionBase

from ansible_collections.vaultcube.demobox.plugins.module_utils import _report
from ansible_collections.vaultcube.demobox.plugins.plugin_utils import _report_render


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        dummy, params = self.validate_argument_spec(argument_spec=_report_render.ARGUMENT_SPEC)
        if not any(fmt in _report.CONTROLLER_FORMATS for fmt in params["formats"]):
            result.update(self._execute_module(module_name="vaultcube.demobox.validation_report",
                                               module_args=params, task_vars=task_vars))
            return result
        if self._connection.transport != "local":
            result.update(failed=True, msg=_report.CONTROLLER_ONLY)
            return result
        result.update(_report_render.write_report(params, check_mode=bool(self._task.check_mode)))
        return result
