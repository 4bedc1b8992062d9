# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check the inputs of every role a run will run, before the first change.

Documentation: plugins/modules/role_inputs.py; the rules: module_utils/_site_inputs.py.

For each role: its argument spec (meta/argument_specs.yml, entry point main) and its defaults
(defaults/main.yml) are read from this collection; each variable's value is the default
overridden by what the task sees (inventory, play, extra vars), templated as the role would.
Values set by the user are checked against the spec; then the value rules, with what they need
from the host read by read-only modules (stat, getent, slurp). Nothing on the host changes.
"""

from __future__ import absolute_import, division, print_function

import base64
import os

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase

from ansible_collections.vaultcube.demobox.plugins.module_utils import _site_inputs

_MISSING = object()
ROLES_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "roles")
# Spec keys ArgumentSpecValidator does not take (documentation only).
DOC_KEYS = ("description", "version_added", "default")

ARGUMENT_SPEC = dict(
    roles=dict(type="raw", required=True),
    layers=dict(type="list", elements="int", default=[1, 2, 3, 4]),
)


def selected_roles(roles, layers, run_tags, skip_tags):
    """The roles a run will run: a list is taken as it is; a mapping {role: layer} is filtered
    by the layers and by --tags/--skip-tags (a role's tags are its name and layer<N>)."""
    if isinstance(roles, (list, tuple)):
        return [str(role) for role in roles]
    if not isinstance(roles, dict):
        raise AnsibleActionFail("roles must be a list of role names or a mapping of role name to layer.")
    run_tags = set(run_tags or ["all"])
    skip_tags = set(skip_tags or [])
    chosen = []
    for role, layer in roles.items():
        tags = {role, "layer%s" % layer}
        if int(layer) not in layers or tags & skip_tags:
            continue
        if run_tags & ({"all", "tagged"} | tags):
            chosen.append(role)
    return chosen


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(ARGUMENT_SPEC)

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        task_vars = task_vars or {}
        _unused, args = self.validate_argument_spec(ARGUMENT_SPEC)
        roles = selected_roles(args["roles"], args["layers"], task_vars.get("ansible_run_tags"),
                               task_vars.get("ansible_skip_tags"))
        specs, defaults = {}, {}
        for role in roles:
            specs[role] = self._load(role, "meta/argument_specs.yml").get("argument_specs", {}).get("main", {}).get("options", {})
            defaults.update(self._load(role, "defaults/main.yml") or {})

        problems, values = [], {}
        for role in roles:
            for name, spec in specs[role].items():
                if name in task_vars:
                    problem, value = self._given(role, name, spec, task_vars)
                    if problem:
                        problems.append(problem)
                        continue
                    values[name] = value
                elif name in defaults:
                    value = self._default(name, defaults, task_vars)
                    if value is not _MISSING:
                        values[name] = value
        problems = problems + _site_inputs.value_problems(roles, values, self._host(roles, values, task_vars))

        result.update(changed=False, roles=roles, problems=problems)
        if problems:
            result.update(failed=True, msg=" ".join(problems))
        else:
            result["msg"] = "The inputs of %s are valid." % (", ".join(roles) or "no role")
        return result

    def _load(self, role, relative):
        path = os.path.join(ROLES_DIR, role, relative)
        if not os.path.exists(path):
            raise AnsibleActionFail("This collection has no role %s (no %s)." % (role, path))
        try:
            return self._loader.load_from_file(path, trusted_as_template=True)
        except TypeError:  # ansible-core before 2.19 trusts every string
            return self._loader.load_from_file(path)

    def _given(self, role, name, spec, task_vars):
        try:
            value = self._templar.template(task_vars[name])
        except Exception as exc:  # any templating error is the user's value, said in one sentence
            return "%s could not be evaluated (%s)." % (name, str(exc).splitlines()[0]), None
        check = {key: item for key, item in spec.items() if key not in DOC_KEYS}
        outcome = ArgumentSpecValidator({name: check}).validate({name: value})
        errors = [error.msg if hasattr(error, "msg") else str(error) for error in outcome.errors]
        problem = _site_inputs.type_problem(name, spec, value, role, errors)
        return problem, outcome.validated_parameters.get(name, value)

    def _default(self, name, defaults, task_vars):
        variables = dict(defaults)
        variables.update(task_vars)
        previous = self._templar.available_variables
        try:
            self._templar.available_variables = variables
            return self._templar.template(defaults[name])
        except Exception:  # a default that needs facts this play did not gather: not judged here
            return _MISSING
        finally:
            self._templar.available_variables = previous

    def _module(self, name, args, task_vars):
        return self._execute_module(module_name=name, module_args=args, task_vars=task_vars)

    def _host(self, roles, values, task_vars):
        """What the value rules need from the host, read without changing it."""
        host = {"check_mode": bool(self._play_context.check_mode)}
        zone = values.get("base_timezone")
        if "base" in roles and isinstance(zone, str) and _site_inputs.TIME_ZONE.match(zone):
            host["zone_known"] = self._zone_lookup(zone, task_vars)
        admin = values.get("security_admin_user")
        if "security" in roles and values.get("security_ssh_password_authentication") is False and admin:
            host["admin"] = self._admin_keys(admin, task_vars)
        if "docker" in roles:
            host["users"] = [user for user in values.get("docker_users") or [] if self._user_home(user, task_vars) is not None]
        return host

    def _zone_lookup(self, zone, task_vars):
        here = self._module("ansible.builtin.stat", {"path": "/usr/share/zoneinfo/" + zone, "get_checksum": False}, task_vars)
        if here.get("stat", {}).get("exists"):
            return lambda _zone: True
        tzdata = self._module("ansible.builtin.stat", {"path": "/usr/share/zoneinfo/Etc/UTC", "get_checksum": False}, task_vars)
        if tzdata.get("stat", {}).get("exists"):
            return lambda _zone: False
        # No tzdata on the host yet: the controller's tzdata judges the name.
        try:
            import zoneinfo
            known = zoneinfo.available_timezones()
        except ImportError:
            return lambda _zone: None
        return lambda name: (name in known) if known else None

    def _user_home(self, user, task_vars):
        found = self._module("ansible.builtin.getent", {"database": "passwd", "key": user, "fail_key": False}, task_vars)
        entry = (found.get("ansible_facts", {}).get("getent_passwd") or {}).get(user)
        return entry[4] if entry and len(entry) > 4 else None

    def _admin_keys(self, admin, task_vars):
        home = self._user_home(admin, task_vars)
        if home is None:
            return None
        keys = self._module("ansible.builtin.slurp", {"src": home + "/.ssh/authorized_keys"}, task_vars)
        if keys.get("failed"):
            return {"keys": 0}
        return {"keys": _site_inputs.key_count(base64.b64decode(keys.get("content", "")).decode("utf-8", "replace"))}
