# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet_report action (documentation: plugins/modules/fleet_report.py): runs in the
controller's Ansible process only, since it reads every host's report from the controller's
report directory and renders templates (plugins/plugin_utils/_fleet_report.py)."""

from __future__ import absolute_import, division, print_function

from ansible.plugins.action import ActionBase

from ansible_collections.vaultcube.demobox.plugins.plugin_utils import _fleet_report

CONTROLLER_ONLY = ("fleet_report runs on the controller: delegate the task to localhost (as "
                   "vaultcube.demobox.validate does), with run_once.")


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        dummy, params = self.validate_argument_spec(argument_spec=_fleet_report.ARGUMENT_SPEC)
        if self._connection.transport != "local":
            result.update(failed=True, msg=CONTROLLER_ONLY)
            return result
        result.update(_fleet_report.write_fleet(params, check_mode=bool(self._task.check_mode)))
        return result
