# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters the docker role checks its daemon configuration with (documentation beside this file)."""

from __future__ import absolute_import, division, print_function

from ansible_collections.vaultcube.demobox.plugins.module_utils import _site_inputs


def docker_daemon_problems(config, name="daemon.json"):
    """One sentence naming the options of a daemon.json mapping no Docker Engine knows (or [])."""
    return _site_inputs.docker_option_problems(name, config or {})


def docker_start_failure(journal):
    """The line of dockerd's journal that says why it did not start (or None)."""
    return _site_inputs.docker_start_failure(journal or "")


class FilterModule(object):  # pylint: disable=too-few-public-methods
    def filters(self):
        return {
            "docker_daemon_problems": docker_daemon_problems,
            "docker_start_failure": docker_start_failure,
        }
