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


@pytest.mark.parametrize("role", ROLES)
def test_role_specs_defaults_and_readme_agree(role):
    found = role_readme.problems(role, root=role_readme.Path(ROOT))
    if role_readme.BEGIN not in _readme(role):  # roles without a generated README: specs vs defaults only
        found = [p for p in found if "README" not in p]
    assert found == []


@pytest.mark.parametrize("role", ["base", "security", "docker", "validation"])
def test_layer1_roles_have_generated_readmes(role):
    assert role_readme.BEGIN in _readme(role)


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
    assert role_readme.problems("demo", root) == []
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


def test_main_check_exit_codes(capsys):
    assert role_readme.main(["--check", "base", "security", "docker"]) == 0
    assert "consistent" in capsys.readouterr().out
    assert role_readme.main(["--check", "monitoring"]) == 1  # its README is written by hand
    assert "lacks the generated Role Variables section" in capsys.readouterr().out
