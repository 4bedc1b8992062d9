# -*- coding: utf-8 -*-
"""One marker for role-internal variables (docs/architecture.md, "Role variables: inputs and internals").

Every variable a role makes for itself - a registered result, a set_fact, a task's or a loop's own
variable, a constant in vars/ - is named <role>__<name> (two underscores); the role's inputs
(defaults/, meta/argument_specs.yml) carry one underscore and never the marker. The one other name a
role may set is its documented result, <role>_result (named in its README).
"""

import os

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
ROLES = sorted(d for d in os.listdir(os.path.join(ROOT, "roles")) if os.path.isdir(os.path.join(ROOT, "roles", d)))
SET_FACT = ("ansible.builtin.set_fact", "set_fact")


def _tasks(tasks, where):
    """(kind, name, file) of every variable the tasks make, blocks included."""
    for task in tasks if isinstance(tasks, list) else []:
        if not isinstance(task, dict):
            continue
        if "register" in task:
            yield "register", task["register"], where
        for key in SET_FACT:
            if isinstance(task.get(key), dict):
                for name in task[key]:
                    if name != "cacheable":
                        yield "set_fact", name, where
        if isinstance(task.get("vars"), dict):
            for name in task["vars"]:
                yield "task vars", name, where
        loop_control = task.get("loop_control")
        if isinstance(loop_control, dict) and "loop_var" in loop_control:
            yield "loop_var", loop_control["loop_var"], where
        for key in ("block", "rescue", "always"):
            yield from _tasks(task.get(key), where)


def _made(role):
    base = os.path.join(ROOT, "roles", role)
    for sub in ("tasks", "handlers"):
        folder = os.path.join(base, sub)
        for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
            if name.endswith(".yml"):
                with open(os.path.join(folder, name)) as f:
                    yield from _tasks(yaml.safe_load(f), f"{sub}/{name}")
    folder = os.path.join(base, "vars")
    for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
        if name.endswith(".yml"):
            with open(os.path.join(folder, name)) as f:
                for var in yaml.safe_load(f) or {}:
                    yield "vars", var, f"vars/{name}"


def _inputs(role):
    base = os.path.join(ROOT, "roles", role)
    names = set()
    path = os.path.join(base, "defaults", "main.yml")
    if os.path.exists(path):
        with open(path) as f:
            names |= set(yaml.safe_load(f) or {})
    with open(os.path.join(base, "meta", "argument_specs.yml")) as f:
        for spec in yaml.safe_load(f)["argument_specs"].values():
            names |= set(spec.get("options") or {})
    return names


def _result_documented(role):
    with open(os.path.join(ROOT, "roles", role, "README.md")) as f:
        return f"`{role}_result`" in f.read()


@pytest.mark.parametrize("role", ROLES)
def test_internal_variables_carry_the_marker(role):
    wrong = sorted({f"{where}: {kind} {name}" for kind, name, where in _made(role)
                    if not name.startswith(f"{role}__")
                    and not (name == f"{role}_result" and _result_documented(role))})
    assert wrong == [], f"name these {role}__<name> (role-internal variables), or document {role}_result in the README"


@pytest.mark.parametrize("role", ROLES)
def test_inputs_do_not_carry_the_marker(role):
    assert sorted(n for n in _inputs(role) if "__" in n) == []


def test_the_scan_sees_what_it_should():
    tasks = [{"name": "a", "register": "x__a", "loop_control": {"loop_var": "x__item"}},
             {"block": [{"ansible.builtin.set_fact": {"x__b": 1, "cacheable": True}, "vars": {"x__c": 2}}],
              "rescue": [{"register": "y_d"}]}]
    assert sorted(made[1] for made in _tasks(tasks, "t")) == ["x__a", "x__b", "x__c", "x__item", "y_d"]
