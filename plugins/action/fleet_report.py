# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet_report action (documentation: plugins/modules/fleet_report.py): runs in the
controller's Ansible process only, since it reads every host's report from the controller's
report directory and renders templates (plugins/plugin_utils/_fleet_report.py)."""

from __future__ import absolute_import, division, print_function

from ansible_collections.vaultcube.demobox.plugins.plugin_utils import _fleet_report

CONTROLLER_ONLY = ("fleet_report runs on the controller: delegate the task to localhost (as "
                   "vaultcube.demobox.validate does), with run_once.")


class ActionModule(_fleet_report.ControllerAction):
    ARGUMENT_SPEC = _fleet_report.ARGUMENT_SPEC
    CONTROLLER_ONLY = CONTROLLER_ONLY
    WRITER = staticmethod(_fleet_report.write_fleet)
