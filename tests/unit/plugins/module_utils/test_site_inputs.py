# -*- coding: utf-8 -*-
"""The layer-1 input rules (module_utils/_site_inputs.py) and the role selection of the role_inputs
action. The same rules run for real against containers in molecule/layer1_safety."""
import pytest

from ansible_collections.vaultcube.demobox.plugins.action import role_inputs
from ansible_collections.vaultcube.demobox.plugins.module_utils import _site_inputs as S

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeFakeFakeFakeFakeFakeFakeFakeFakeFake admin@laptop"
DEFAULTS = {
    "base_admin_user": "vaultadmin", "base_timezone": "Etc/UTC", "base_admin_authorized_keys": [KEY],
    "base_admin_authorized_keys_exclusive": False,
    "security_admin_user": "vaultadmin", "security_ssh_port": 22, "security_ufw_enabled": True,
    "security_ufw_allowed_ports": ["22"], "security_ssh_allow_users": ["vaultadmin"],
    "security_ssh_password_authentication": False,
    "docker_users": ["vaultadmin"], "docker_daemon_options_extra": {}, "docker_firewall_allowed_ports": [],
}
ALL = ("base", "security", "docker")
FRESH = {"zone_known": lambda z: z == "Etc/UTC", "admin": None, "users": []}


def problems(roles=ALL, host=None, **values):
    merged = dict(DEFAULTS, **values)
    return S.value_problems(list(roles), merged, host if host is not None else FRESH)


def test_defaults_with_a_key_pass_on_a_fresh_host():
    assert problems() == []


@pytest.mark.parametrize("port, why", [
    ("70000", "outside the ports 1-65535"), ("0", "outside the ports 1-65535"), ("22/sctp", "not a port"),
    ("9000:8000", "ends below its start"), ("ssh", "not a port"), ("80:70000/tcp", "outside"),
])
def test_bad_allowed_port_is_one_sentence_naming_it(port, why):
    found = problems(security_ufw_allowed_ports=["22", port])
    assert found == ["security_ufw_allowed_ports entry '%s' is %s" % (port, found[0].split(" is ", 1)[1].rstrip("."))
                     + "."]
    assert why in found[0]


@pytest.mark.parametrize("port", ["22", 22, "8888/tcp", "60000:61000/udp", "1", "65535/any", "1:65535"])
def test_good_ports(port):
    assert S.port_problem(port) is None


def test_ssh_port_out_of_range_and_blocked_ssh():
    assert problems(security_ssh_port=70000, security_ufw_allowed_ports=["70000"])[0] == (
        "security_ssh_port is 70000, outside the ports 1-65535.")
    blocked = problems(security_ssh_port=2222)
    assert blocked == ["security_ufw_allowed_ports (22) does not let TCP port 2222 through, so enabling UFW would "
                       "block SSH: add '2222'."]
    assert problems(security_ssh_port=2222, security_ufw_allowed_ports=["2000:3000/tcp"]) == []
    assert problems(security_ssh_port=2222, security_ufw_allowed_ports=["2222/udp"]) != []
    assert problems(security_ssh_port=2222, security_ufw_enabled=False) == []


def test_user_name_with_a_space_is_named_once():
    found = problems(base_admin_user="bad user", security_admin_user="bad user",
                     security_ssh_allow_users=["bad user"], docker_users=["bad user"])
    assert found == ["base_admin_user is 'bad user', which useradd does not accept as a user name: lower-case "
                     "letters, digits, _ and -, starting with a letter or _, at most 32 characters."]


@pytest.mark.parametrize("name", ["Admin", "1admin", "a" * 33, "ad:min", ""])
def test_user_names_useradd_refuses(name):
    assert S.user_problem("base_admin_user", name)


def test_time_zone_unknown_or_malformed():
    assert problems(base_timezone="Mars/Olympus") == [
        "base_timezone is 'Mars/Olympus', which is not a time zone tzdata knows (e.g. Etc/UTC, Europe/Berlin, "
        "America/New_York)."]
    assert problems(base_timezone="../../etc/passwd")
    # Neither host nor controller can tell: not refused.
    assert problems(base_timezone="Europe/Berlin", host={"zone_known": lambda z: None, "admin": None, "users": []}) == []


def test_no_key_with_password_logins_off():
    found = problems(base_admin_authorized_keys=[])
    assert found == ["security_ssh_password_authentication is false, but the admin user vaultadmin does not exist on "
                     "this host yet and base_admin_authorized_keys is empty, so it would be locked out: give it a key "
                     "in base_admin_authorized_keys."]
    # A key already on the host counts, unless the base role replaces the keys (exclusive) with others.
    on_host = {"zone_known": lambda z: True, "admin": {"keys": 1}, "users": ["vaultadmin"]}
    assert problems(base_admin_authorized_keys=[], host=on_host) == []
    assert problems(roles=["security"], host=on_host) == []
    assert problems(roles=["security"], host=dict(on_host, admin={"keys": 0}))[0].endswith(
        "has no SSH key in its authorized_keys and this run does not give it one, so it would be locked out: give "
        "it a key in base_admin_authorized_keys.")
    assert problems(base_admin_authorized_keys=[], security_ssh_password_authentication=True) == []
    # Check mode, the admin not created yet by an earlier role of the play: the real run judges.
    assert problems(roles=["security"], host={"admin": None, "check_mode": True}) == []


def test_key_lines_that_are_not_keys():
    found = problems(base_admin_authorized_keys=[KEY, "not a key"])
    assert found == ["base_admin_authorized_keys entry 2 ('not a key') is not an OpenSSH public key line "
                     "(e.g. 'ssh-ed25519 AAAA... admin@laptop')."]


def test_allow_users_without_the_admin():
    assert problems(security_ssh_allow_users=["alice"]) == [
        "security_ssh_allow_users (alice) leaves out the admin user vaultadmin, who would be locked out of SSH."]


def test_docker_option_typo_names_the_nearest():
    assert problems(docker_daemon_options_extra={"live-restore": True, "log-levle": "debug"}) == [
        "docker_daemon_options_extra has the option 'log-levle' (did you mean 'log-level'?), which Docker Engine "
        "does not know as a daemon.json option, so dockerd would not start with it."]
    assert "'zzz-unheard-of'," in problems(docker_daemon_options_extra={"zzz-unheard-of": 1, "bipp": 2})[0]


def test_docker_users_must_exist_or_be_created():
    assert problems(docker_users=["vaultadmin", "ghost"]) == [
        "docker_users lists ghost, which does not exist on this host and which this run does not create: create it "
        "first or drop it from docker_users."]
    assert problems(roles=["docker"], docker_users=["vaultadmin"], host={"users": []})  # base does not run
    assert problems(roles=["docker"], docker_users=["alice"], host={"users": ["alice"]}) == []
    assert problems(roles=["docker"], docker_users=["ghost"], host={"users": [], "check_mode": True}) == []


def test_published_ports_list_checked():
    assert problems(docker_firewall_allowed_ports=["8888/tcp", "99999"]) == [
        "docker_firewall_allowed_ports entry '99999' is outside the ports 1-65535."]


def test_rules_skip_roles_that_do_not_run():
    assert problems(roles=["docker"], base_timezone="Mars/Olympus", security_ufw_allowed_ports=["x"],
                    host={"users": ["vaultadmin"]}) == []


@pytest.mark.parametrize("spec, value, errors, sentence", [
    ({"type": "int"}, "abc", ["unable to convert"], "security_ssh_port is 'abc' (a string), but the security role needs "
                                                    "a whole number."),
    ({"type": "str", "choices": ["no", "yes"]}, "maybe", ["value of x must be one of: no, yes"],
     "security_ssh_port is 'maybe', but the security role accepts only one of 'no', 'yes'."),
    ({"type": "list", "elements": "str"}, True, ["is of type bool"],
     "security_ssh_port is true (a boolean), but the security role needs a list of strings."),
])
def test_type_problem_sentences(spec, value, errors, sentence):
    assert S.type_problem("security_ssh_port", spec, value, "security", errors) == sentence
    assert S.type_problem("security_ssh_port", spec, value, "security", []) is None


def test_docker_start_failure_picks_dockerds_reason():
    journal = "\n".join([
        "Starting docker.service - Docker Application Container Engine...",
        'time="2026-12-04T10:00:00Z" level=info msg="Starting up"',
        "unable to configure the Docker daemon with file /etc/docker/daemon.json: the following directives don't "
        "match any configuration option: log-levle",
        "docker.service: Main process exited, code=exited, status=1/FAILURE",
        "Failed to start docker.service - Docker Application Container Engine.",
    ])
    assert S.docker_start_failure(journal).endswith("don't match any configuration option: log-levle")
    assert S.docker_start_failure('time="x" level=error msg="failed to start daemon: \\"bip\\" is bad"') == (
        'failed to start daemon: "bip" is bad')
    assert S.docker_start_failure("unable to parse logging level: loud") == "unable to parse logging level: loud"
    assert S.docker_start_failure("Started docker.service\nall good") is None


@pytest.mark.parametrize("run, skip, layers, wanted", [
    (["all"], [], [1, 2, 3, 4], ["base", "security", "docker", "nvidia_driver", "ai_frameworks"]),
    (["layer1"], [], [1, 2, 3, 4], ["base", "security", "docker"]),
    (["docker"], [], [1, 2, 3, 4], ["docker"]),
    (["all"], ["security"], [1], ["base", "docker"]),
    (["all"], ["layer1"], [1, 2, 3, 4], ["nvidia_driver", "ai_frameworks"]),
    (["layer2", "base"], [], [1, 2], ["base", "nvidia_driver"]),
    (["layer4"], [], [1, 2, 3], []),
])
def test_role_selection_follows_layers_and_tags(run, skip, layers, wanted):
    roles = {"base": 1, "security": 1, "docker": 1, "nvidia_driver": 2, "ai_frameworks": 4}
    assert role_inputs.selected_roles(roles, layers, run, skip) == wanted
    assert role_inputs.selected_roles(["security"], layers, run, skip) == ["security"]
