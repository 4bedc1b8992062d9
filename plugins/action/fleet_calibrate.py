# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet_calibrate action (documentation: plugins/modules/fleet_calibrate.py): writes the
baseline file on the controller from the fleet report (plugins/plugin_utils/_fleet_report.py)."""

from __future__ import absolute_import, division, print_function

from ansible_collections.vaultcube.demobox.plugins.plugin_utils import _fleet_report

CONTROLLER_ONLY = "fleet_calibrate runs on the controller: delegate the task to localhost (as vaultcube.demobox.calibrate does)."


class ActionModule(_fleet_report.ControllerAction):
    ARGUMENT_SPEC = _fleet_report.CALIBRATE_SPEC
    CONTROLLER_ONLY = CONTROLLER_ONLY
    WRITER = staticmethod(_fleet_report.write_baseline)
