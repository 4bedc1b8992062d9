#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

DOCUMENTATION = r"""
---
module: role_inputs
short_description: Check the inputs of the collection's roles a run will run, before the first change
version_added: "0.2.0"
description:
  - For every role the run will run, takes each of its variables as the role will see it (its default,
    overridden by the inventory, the play and extra vars) and refuses, in one sentence per problem naming
    the variable, the value and what is allowed, a value its argument spec refuses (type, choices) and
    what an argument spec cannot express (ports 1-65535 in well-formed port specs, user names useradd
    accepts, a time zone tzdata knows, an SSH key for the admin before password logins go off, Docker
    daemon options Docker knows, Docker users that exist or that this run creates).
  - The site playbook runs it first, for every role its layers and tags select, so that a wrong value for
    a later role is refused before an earlier one changes the host; the layer-1 roles run it for
    themselves too (used alone).
  - Reads the host with C(stat), C(getent) and C(slurp) only; never reports changed.
  - An action plugin; the rules are in C(module_utils/_site_inputs.py).
options:
  roles:
    description:
      - The roles to check - a list of names (each checked), or a mapping of role name to its layer
        (checked when O(layers) has its layer and C(--tags)/C(--skip-tags) select it; a role's tags are
        its name and C(layer<N>)).
    type: raw
    required: true
  layers:
    description: The layers the run will run (the site playbook's C(vaultcube_site_layers)).
    type: list
    elements: int
    default: [1, 2, 3, 4]
attributes:
  check_mode:
    support: full
    description: The same checks in check mode; nothing is changed either way.
  diff_mode:
    support: none
    description: Nothing to show as a diff.
author:
  - VaultCube engineering (@vaultcube)
"""

EXAMPLES = r"""
- name: Check the inputs of every role this run will run, before any change.
  vaultcube.demobox.role_inputs:
    roles: {base: 1, security: 1, docker: 1, nvidia_driver: 2}
    layers: "{{ vaultcube_site_layers | default([1, 2, 3, 4]) }}"

- name: Check the security role's inputs (inside the role).
  vaultcube.demobox.role_inputs:
    roles: [security]
"""

RETURN = r"""
roles:
  description: The roles whose inputs were checked.
  returned: always
  type: list
  elements: str
problems:
  description: One sentence per refused input (empty when every input is valid); C(msg) joins them.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(argument_spec=dict(roles=dict(type="raw", required=True),
                                              layers=dict(type="list", elements="int", default=[1, 2, 3, 4])),
                           supports_check_mode=True)
    module.fail_json(msg="role_inputs is an action plugin that runs on the controller; call it as vaultcube.demobox.role_inputs.")


if __name__ == "__main__":
    main()
