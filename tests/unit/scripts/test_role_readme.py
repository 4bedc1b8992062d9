# -*- coding: utf-8 -*-
"""scripts/role_readme.py: every role's argument specs, defaults and README agree."""

import importlib.util
import os
import textwrap

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
SPEC = importlib.util.spec_from_file_location("role_readme", os.path.join(ROOT, "scripts", "role_readme.py"))
role_readme = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(role_readme)

ROLES = sorted(d for d in os.listdir(os.path.join(ROOT, "roles"))
               if os.path.exists(os.path.join(ROOT, "roles", d, "meta", "argument_specs.yml")))


def _readme(role):
    path = os.path.join(ROOT, "roles", role, "README.md")
    return open(path).read() if os.path.exists(path) else ""


def test_every_role_is_covered():
    # every directory under roles/ is a role with argument specs, so none escapes the checks below
    assert ROLES == sorted(d for d in os.listdir(os.path.join(ROOT, "roles")) if os.path.isdir(os.path.join(ROOT, "roles", d)))
    assert len(ROLES) >= 11


@pytest.mark.parametrize("role", ROLES)
def test_role_specs_defaults_and_readme_agree(role):
    # specs vs defaults, the generated sections current, one section order, results in docs/benchmarks.md
    assert role_readme.problems(role, root=role_readme.Path(ROOT)) == []


@pytest.mark.parametrize("role", ROLES)
def test_every_role_readme_is_generated(role):
    text = _readme(role)
    assert role_readme.BEGIN in text and role_readme.END in text
    assert "## Entry points" in text[text.index(role_readme.BEGIN):text.index(role_readme.END)]


def _role(tmp_path, specs, defaults, readme=None):
    base = tmp_path / "roles" / "demo"
    (base / "meta").mkdir(parents=True)
    (base / "defaults").mkdir()
    (base / "meta" / "argument_specs.yml").write_text(textwrap.dedent(specs))
    (base / "defaults" / "main.yml").write_text(textwrap.dedent(defaults))
    if readme is not None:
        (base / "README.md").write_text(readme)
    return tmp_path


SPECS = """\
    argument_specs:
      main:
        short_description: Demo.
        options:
          demo_port:
            type: int
            default: 22
            description: The C(Port) to use, see I(sshd_config).
          demo_names:
            type: list
            elements: str
            choices: [a, b]
            default: [a]
            description: [First line., Second line.]
          demo_hash:
            type: str
            description: Default null.
"""
DEFAULTS = "demo_port: 22\ndemo_names: [a]\ndemo_hash: null\n"


def test_render_shows_yaml_default_type_choices_and_markdown(tmp_path):
    root = _role(tmp_path, SPECS, DEFAULTS)
    text = role_readme.render("demo", root)
    assert text.startswith(role_readme.BEGIN) and text.endswith(role_readme.END)
    assert "```yaml\ndemo_port: 22\n```" in text
    assert "(int) The `Port` to use, see *sshd_config*." in text
    assert "(list of str; one of `a`, `b`) First line. Second line." in text
    assert "```yaml\ndemo_hash: null\n```" in text


def test_write_then_check_is_clean(tmp_path):
    root = _role(tmp_path, SPECS, DEFAULTS, f"# demo\n\n{role_readme.BEGIN}\nold\n{role_readme.END}\n\n## License\n")
    assert any("out of date" in p for p in role_readme.problems("demo", root))
    role_readme.write("demo", root)
    assert [p for p in role_readme.problems("demo", root) if "Role Variables section" in p] == []
    assert (root / "roles" / "demo" / "README.md").read_text().endswith("## License\n")


def test_disagreements_are_reported(tmp_path):
    defaults = "demo_port: 2222\ndemo_names: [a]\ndemo_hash: null\ndemo_stray: 1\n"
    specs = SPECS.replace("      demo_hash:\n            type: str", "      other_hash:\n            type: str")
    root = _role(tmp_path, specs, defaults)
    found = "\n".join(role_readme.problems("demo", root))
    assert "demo_port defaults to 22 in the specs but 2222 in defaults/main.yml" in found
    assert "demo_stray is in defaults/main.yml but not in meta/argument_specs.yml" in found
    assert "option other_hash does not carry the role prefix demo_" in found
    assert "other_hash has no value in defaults/main.yml" in found
    assert "README.md lacks the generated Role Variables section" in found


def test_description_read_as_a_mapping_is_reported(tmp_path):
    specs = SPECS.replace("description: Default null.", "description:\n              - e.g. C({a: 1}).")
    root = _role(tmp_path, specs, DEFAULTS)
    assert any("demo_hash's description is missing or not text" in p for p in role_readme.problems("demo", root))


def test_null_default_must_not_have_a_spec_default(tmp_path):
    specs = SPECS.replace("description: Default null.", "default: x\n            description: Default null.")
    root = _role(tmp_path, specs, DEFAULTS)
    assert any("defaults to 'x' in the specs but None" in p for p in role_readme.problems("demo", root))


def test_main_check_exit_codes(capsys, tmp_path):
    assert role_readme.main(["--check", "base", "security", "docker"]) == 0
    assert "consistent" in capsys.readouterr().out
    # role directories work as well as names: `role_readme.py --check roles/*`
    assert role_readme.main(["--check"] + [os.path.join("roles", r) + "/" for r in ROLES]) == 0
    capsys.readouterr()
    root = _role(tmp_path, SPECS, DEFAULTS, "# vaultcube.demobox.demo\n\nWritten by hand.\n")
    assert role_readme.main(["--check", "demo"], root=root) == 1
    assert "lacks the generated Role Variables section" in capsys.readouterr().out


LAYOUT = """# vaultcube.demobox.demo

Demo.

## Requirements

None.

## How it chooses

Like this.

## Role Variables

{generated}

## Dependencies

None.

## Example Playbook

```yaml
## not a heading
- hosts: all
```

## Tests and results

Molecule `demo`. Figures: [docs/benchmarks.md](../../docs/benchmarks.md#demo-role).

## License

GPL-3.0-or-later
"""


def _layout_root(tmp_path, readme=None):
    root = _role(tmp_path, SPECS, DEFAULTS)
    (root / "docs").mkdir()
    (root / "docs" / "benchmarks.md").write_text("# Benchmarks\n\n## Roles\n\n### demo (role)\n\nNothing yet.\n")
    text = readme if readme is not None else LAYOUT.format(generated=role_readme.render("demo", root))
    (root / "roles" / "demo" / "README.md").write_text(text)
    return root


def test_render_lists_every_entry_point_and_only_new_variables(tmp_path):
    specs = SPECS + """\
      verify:
        short_description: Check it.
        description: [Reads only.]
        options:
          demo_port:
            type: int
            default: 22
            description: The C(Port) to use, see I(sshd_config).
          demo_strict:
            type: bool
            default: true
            description: Fail on any difference.
"""
    root = _role(tmp_path, specs, DEFAULTS + "demo_strict: true\n")
    text = role_readme.render("demo", root)
    assert "| `main` | `roles: [vaultcube.demobox.demo]` | Demo. |" in text
    assert "| `verify` | `include_role: {name: vaultcube.demobox.demo, tasks_from: verify}` | Check it. |" in text
    assert "### Entry point `verify`\n\nReads only.\n\nIt reads these variables of `main` (documented above): `demo_port`." in text
    assert text.count("```yaml\ndemo_port: 22\n```") == 1
    assert "```yaml\ndemo_strict: true\n```" in text


def test_a_readme_in_the_common_shape_is_clean(tmp_path):
    root = _layout_root(tmp_path)
    assert role_readme.problems("demo", root) == []


@pytest.mark.parametrize("change, sentence", [
    (lambda t: t.replace("# vaultcube.demobox.demo", "# demo"), "must start with the title"),
    (lambda t: t.replace("## Tests and results", "## What ran for real"), "every role README has"),
    (lambda t: t.replace("## How it chooses\n\nLike this.\n\n", "").replace("## License", "## How it chooses\n\nLike this.\n\n## License"),
     "belong between Requirements and Role Variables"),
    (lambda t: t.replace("../../docs/benchmarks.md#demo-role", "../../docs/benchmarks.md"), "does not link to its results"),
    (lambda t: t.replace("Molecule `demo`.", "Molecule `demo`, `tests/gpu/layer4.sh`."), "names tests/gpu/layer4.sh, which does not exist"),
    (lambda t: t.replace("Molecule `demo`.", "Molecule `demo`, `tasks/verify.yml`."), "names tasks/verify.yml, which does not exist in the role"),
])
def test_layout_departures_are_reported(tmp_path, change, sentence):
    root = _layout_root(tmp_path)
    readme = root / "roles" / "demo" / "README.md"
    readme.write_text(change(readme.read_text()))
    found = "\n".join(role_readme.problems("demo", root))
    assert sentence in found


def test_a_role_without_its_benchmarks_section_is_reported(tmp_path):
    root = _layout_root(tmp_path)
    (root / "docs" / "benchmarks.md").write_text("# Benchmarks\n")
    assert any("has no section '### demo (role)'" in p for p in role_readme.problems("demo", root))
