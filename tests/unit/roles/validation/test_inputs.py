# -*- coding: utf-8 -*-
"""The validation role's input checks agree with its own files: the list of checks in the argument
specs is the set of tasks/check_<name>.yml, and every range rule names a variable the specs know."""
from pathlib import Path

import yaml

ROLE = Path(__file__).resolve().parents[4] / "roles" / "validation"


def specs():
    return yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"]


def test_the_checks_that_exist_are_the_argument_spec_choices():
    choices = specs()["validation_checks"]["choices"]
    files = sorted(p.name[len("check_"):-len(".yml")] for p in (ROLE / "tasks").glob("check_*.yml"))
    assert sorted(choices) == files
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    assert set(defaults["validation_checks"]) <= set(choices)


def test_every_range_rule_names_a_numeric_option_and_a_bound():
    options = specs()
    rules = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())["validation__ranges"]
    names = [r["var"] for r in rules]
    assert len(names) == len(set(names)), "a variable has two range rows"
    for rule in rules:
        assert options[rule["var"]]["type"] in ("int", "float"), rule
        assert set(rule) - {"var", "allowed"} <= {"gt", "ge", "le"} and set(rule) & {"gt", "ge", "le"}, rule
        assert rule["allowed"] and not rule["allowed"].endswith("."), rule


def test_every_numeric_option_has_a_range_rule():
    options = specs()
    rules = {r["var"] for r in yaml.safe_load((ROLE / "vars" / "main.yml").read_text())["validation__ranges"]}
    numeric = {name for name, spec in options.items() if spec.get("type") in ("int", "float")}
    assert numeric - rules == set()
