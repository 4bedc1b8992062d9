# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The input rules of the collection's roles, judged before a playbook changes anything.

The ``role_inputs`` action (plugins/action/role_inputs.py) gathers, for every role a run will
run, the values of its variables (the role defaults, overridden by the inventory, the play and
extra vars) and a few read-only facts of the host, then asks this file:

- ``type_problem``: a value its role's argument spec refuses, in one sentence (Ansible's own
  role check buries the same refusal in a dump of the whole spec, and only when the role starts:
  after the roles before it have changed the host);
- ``value_problems``: what an argument spec cannot express - ports 1-65535 in well-formed port
  specs, user names useradd accepts, a time zone tzdata knows, an SSH key for the admin before
  password logins go off, Docker daemon options Docker knows, users that exist.

Every problem is one sentence naming the variable, the value and what is allowed.
"""

from __future__ import absolute_import, division, print_function

import re

# A port, a port range, either with /tcp, /udp or /any (UFW's and iptables' forms).
PORT_SPEC = re.compile(r"^([0-9]{1,5})(?::([0-9]{1,5}))?(?:/(tcp|udp|any))?$")
# useradd's default rule (Debian, Ubuntu; no --badname): lower case, digits, _ and -, at most 32.
USER_NAME = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
# One OpenSSH public key line (options before the key type are allowed).
SSH_KEY = re.compile(
    r"(^|\s)(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp[0-9]+|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com)\s+AAAA")
# A time zone name as tzdata spells them (no leading slash, no "..").
TIME_ZONE = re.compile(r"^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*$")

# Every top-level daemon.json key a Docker Engine from 20.10 (Debian 12) to 28 knows (moby's
# daemon/config: the json tags of Config and its embedded structs, its named options and the
# deprecated keys it still accepts). A key outside this set is a typo or an option of a Docker
# this collection does not install; dockerd refuses to start with it ("the following directives
# don't match any configuration option").
DOCKER_DAEMON_KEYS = frozenset("""
allow-direct-routing allow-nondistributable-artifacts api-cors-header authorization-plugins
bip bip6 bridge bridge-accept-fwmark builder cdi-spec-dirs cgroup-parent cluster-advertise
cluster-store cluster-store-opts containerd containerd-namespace containerd-plugin-namespace
cpu-rt-period cpu-rt-runtime cri-containerd data-root debug default-address-pools
default-cgroupns-mode default-gateway default-gateway-v6 default-ipc-mode default-network-opts
default-runtime default-shm-size default-ulimits deprecated-key-path dns dns-opts dns-search
exec-opts exec-root experimental features firewall-backend fixed-cidr fixed-cidr-v6 group
host-gateway-ip host-gateway-ips hosts http-proxy https-proxy icc init init-path
insecure-registries ip ip-forward ip-forward-no-drop ip-masq ip6tables iptables ipv6 labels
live-restore log-driver log-format log-level log-opts max-concurrent-downloads
max-concurrent-uploads max-download-attempts metrics-addr min-api-version mtu
network-control-plane-mtu network-diagnostic-port no-new-privileges no-proxy
node-generic-resources oom-score-adjust pidfile proxies raw-logs registry-mirrors
remap-root resolv-conf rootless runtimes seccomp-profile selinux-enabled shutdown-timeout
storage-driver storage-opts swarm-default-advertise-addr swarm-raft-election-tick
swarm-raft-heartbeat-tick tls tlscacert tlscert tlskey tlsverify userland-proxy
userland-proxy-path userns-remap
""".split())

TYPE_WORDS = {
    "str": "a string", "int": "a whole number", "float": "a number", "bool": "true or false",
    "list": "a list", "dict": "a mapping", "path": "a path", "raw": "any value",
}


def _show(value):
    """A value as the sentence shows it: strings quoted, the rest as YAML would read."""
    if isinstance(value, str):
        return "'%s'" % value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _type_of(value):
    for kind, words in ((bool, "a boolean"), (str, "a string"), (int, "a number"), (float, "a number"),
                        (list, "a list"), (dict, "a mapping")):
        if isinstance(value, kind):
            return words
    return "null" if value is None else type(value).__name__


def wanted(spec):
    """What an argument spec entry allows, in words."""
    kind = spec.get("type", "str")
    text = TYPE_WORDS.get(kind, kind)
    if kind == "list" and spec.get("elements"):
        text = "a list of %ss" % TYPE_WORDS.get(spec["elements"], spec["elements"]).split(" ", 1)[-1]
    if spec.get("choices"):
        text = "one of %s" % ", ".join(_show(choice) for choice in spec["choices"])
    return text


def type_problem(name, spec, value, role, validator_errors):
    """One sentence for a value its role's argument spec refused (validator_errors: its messages)."""
    if not validator_errors:
        return None
    if spec.get("choices") and any("must be one of" in str(error) for error in validator_errors):
        return "%s is %s, but the %s role accepts only %s." % (name, _show(value), role, wanted(spec))
    return "%s is %s (%s), but the %s role needs %s." % (name, _show(value), _type_of(value), role, wanted(spec))


def port_problem(value):
    """None for a port spec UFW and iptables take, else what is wrong with it."""
    match = PORT_SPEC.match(str(value).strip())
    if not match:
        return "not a port, a port range or either with /tcp, /udp or /any (e.g. 22, 8888/tcp, 60000:61000/udp)"
    low = int(match.group(1))
    high = int(match.group(2)) if match.group(2) else low
    if not (1 <= low <= 65535 and 1 <= high <= 65535):
        return "outside the ports 1-65535"
    if high < low:
        return "a range that ends below its start"
    return None


def port_errors(name, values):
    """A sentence for each entry of a list of port specs that is not one."""
    problems = []
    for value in values or []:
        why = port_problem(value)
        if why:
            problems.append("%s entry %s is %s." % (name, _show(value), why))
    return problems


def ports_of(values):
    """The (first port, last port, protocol) of each port spec; protocol None means both."""
    found = []
    for value in values or []:
        match = PORT_SPEC.match(str(value).strip())
        if match:
            low = int(match.group(1))
            found.append((low, int(match.group(2) or low), None if match.group(3) in (None, "any") else match.group(3)))
    return found


def user_problem(name, value):
    if isinstance(value, str) and USER_NAME.match(value):
        return None
    return ("%s is %s, which useradd does not accept as a user name: lower-case letters, digits, _ and -, "
            "starting with a letter or _, at most 32 characters." % (name, _show(value)))


def key_count(text):
    """How many lines of an authorized_keys text hold an OpenSSH public key."""
    return sum(1 for line in (text or "").splitlines() if SSH_KEY.search(line) and not line.lstrip().startswith("#"))


def bad_key_lines(name, keys):
    problems = []
    for index, key in enumerate(keys or [], 1):
        if not isinstance(key, str) or not SSH_KEY.search(key):
            problems.append("%s entry %d (%s) is not an OpenSSH public key line (e.g. 'ssh-ed25519 AAAA... admin@laptop')."
                            % (name, index, _show(key)[:60]))
    return problems


def time_zone_problem(name, value, known):
    """known(zone) -> True/False, or None when neither the host nor the controller can tell."""
    if not isinstance(value, str) or not TIME_ZONE.match(value) or known(value) is False:
        return "%s is %s, which is not a time zone tzdata knows (e.g. Etc/UTC, Europe/Berlin, America/New_York)." % (
            name, _show(value))
    return None


def docker_option_problems(name, options):
    if not isinstance(options, dict):
        return []
    unknown = sorted(key for key in options if key not in DOCKER_DAEMON_KEYS)
    if not unknown:
        return []
    close = []
    for key in unknown:
        near = _nearest(key, DOCKER_DAEMON_KEYS)
        close.append("'%s'%s" % (key, " (did you mean '%s'?)" % near if near else ""))
    return ["%s has %s %s, which Docker Engine does not know as a daemon.json option, so dockerd would not start "
            "with it." % (name, "the option" if len(unknown) == 1 else "the options", ", ".join(close))]


def _nearest(word, words):
    """The known word one or two edits away, if exactly one is closest."""
    best, best_distance = None, 3
    for candidate in sorted(words):
        distance = _distance(word, candidate)
        if distance < best_distance:
            best, best_distance = candidate, distance
    return best


def _distance(left, right):
    previous = list(range(len(right) + 1))
    for i, a in enumerate(left, 1):
        current = [i]
        for j, b in enumerate(right, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a != b)))
        previous = current
    return previous[-1]


def value_problems(roles, values, host):
    """Every rule an argument spec cannot express, for the roles this run will run.

    roles:  the role names (short) that will run, in order;
    values: each variable's value as its role will see it (missing where it could not be known);
    host:   what the action read from the host: 'zone_known' (callable), 'admin' (None: no such
            user, else {'keys': n}), 'users' (names that exist), 'check_mode' (users that do not
            exist yet are not refused: an earlier role of the same play creates them on the real run).
    """
    problems = []
    get = values.get
    if "base" in roles:
        if "base_admin_user" in values:
            problems.append(user_problem("base_admin_user", get("base_admin_user")))
        if "base_timezone" in values:
            problems.append(time_zone_problem("base_timezone", get("base_timezone"), host.get("zone_known", lambda zone: None)))
        problems.extend(bad_key_lines("base_admin_authorized_keys", get("base_admin_authorized_keys")))
    if "security" in roles:
        problems.extend(_security_problems(roles, values, host))
    if "docker" in roles:
        for user in get("docker_users") or []:
            problems.append(user_problem("docker_users entry", user))
        problems.extend(docker_option_problems("docker_daemon_options_extra", get("docker_daemon_options_extra")))
        problems.extend(port_errors("docker_firewall_allowed_ports", get("docker_firewall_allowed_ports")))
        missing = [user for user in get("docker_users") or []
                   if USER_NAME.match(str(user)) and user not in host.get("users", ())
                   and not ("base" in roles and user == get("base_admin_user"))]
        if missing and not host.get("check_mode"):
            problems.append("docker_users lists %s, which does not exist on this host and which this run does not create: "
                            "create it first or drop it from docker_users." % ", ".join(missing))
    return _unique_names(problem for problem in problems if problem)


def _unique_names(problems):
    """One sentence per wrong user name, however many variables carry it (the admin's name
    flows into security_admin_user, security_ssh_allow_users and docker_users)."""
    kept, names = [], set()
    for problem in problems:
        match = re.search(r" is ('.*'), which useradd does not accept", problem)
        if match:
            if match.group(1) in names:
                continue
            names.add(match.group(1))
        kept.append(problem)
    return kept


def _security_problems(roles, values, host):
    get = values.get
    problems = []
    admin = get("security_admin_user")
    if admin is not None:
        problems.append(user_problem("security_admin_user", admin))
    for user in get("security_ssh_allow_users") or []:
        problems.append(user_problem("security_ssh_allow_users entry", user))
    port = get("security_ssh_port")
    if isinstance(port, int) and not 1 <= port <= 65535:
        problems.append("security_ssh_port is %s, outside the ports 1-65535." % port)
    allowed = get("security_ufw_allowed_ports") or []
    bad_ports = port_errors("security_ufw_allowed_ports", allowed)
    problems.extend(bad_ports)
    if get("security_ufw_enabled") and not bad_ports and isinstance(port, int):
        if not any(low <= port <= high and proto in (None, "tcp") for low, high, proto in ports_of(allowed)):
            problems.append("security_ufw_allowed_ports (%s) does not let TCP port %s through, so enabling UFW would block SSH: "
                            "add '%s'." % (", ".join(str(item) for item in allowed) or "empty", port, port))
    allow_users = get("security_ssh_allow_users") or []
    if admin and allow_users and admin not in allow_users:
        problems.append("security_ssh_allow_users (%s) leaves out the admin user %s, who would be locked out of SSH."
                        % (", ".join(allow_users), admin))
    if get("security_ssh_password_authentication") is False and admin:
        problems.extend(_key_problem(roles, values, host, admin))
    return problems


def _key_problem(roles, values, host, admin):
    """Password logins go off: the admin must end this run with at least one key."""
    get = values.get
    base_runs = "base" in roles and get("base_admin_user") == admin
    given = key_count("\n".join(str(key) for key in get("base_admin_authorized_keys") or [])) if base_runs else 0
    on_host = (host.get("admin") or {}).get("keys", 0)
    if base_runs and get("base_admin_authorized_keys_exclusive") and given:
        on_host = 0
    if given + on_host > 0 or (host.get("check_mode") and host.get("admin") is None):
        return []  # check mode: an earlier role of the play would create the admin (and its keys)
    where = ("does not exist on this host yet" if host.get("admin") is None
             else "has no SSH key in its authorized_keys")
    return ["security_ssh_password_authentication is false, but the admin user %s %s and %s, so it would be locked out: "
            "give it a key in base_admin_authorized_keys." % (
                admin, where, "base_admin_authorized_keys is empty" if base_runs else "this run does not give it one")]


# Lines of systemd, not dockerd, in `journalctl -u docker -o cat`.
_SYSTEMD_LINE = re.compile(r"^(docker\.(service|socket)|Failed to start|Stopped|Starting|Started|Stopping)\b")
_REASON = re.compile(r"unable|failed|invalid|error|don't match|cannot|conflict|not supported", re.IGNORECASE)
_LOGRUS = re.compile(r'level=(\w+)\s+msg="((?:[^"\\]|\\.)*)"')


def docker_start_failure(journal):
    """The last line of dockerd's own output in its journal that says why it stopped, or None."""
    found = None
    for line in journal.splitlines():
        line = line.strip()
        if not line or _SYSTEMD_LINE.match(line):
            continue
        logrus = _LOGRUS.search(line)
        if logrus:
            if logrus.group(1).lower() in ("debug", "info", "warning"):
                continue
            line = logrus.group(2).replace('\\"', '"')
        if _REASON.search(line):
            found = line
    return found
