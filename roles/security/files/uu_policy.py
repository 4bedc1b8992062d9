"""Print, as JSON, the policy the installed unattended-upgrades really applies: its allowed
origins, its blacklist and, for the package names given as arguments, whether its own blacklist
matcher holds them back:  python3 uu_policy.py [PACKAGE...]
Shipped with the security role for its `verify` entry point; changes nothing.

Loads /usr/bin/unattended-upgrade as a module and calls its functions (get_allowed_origins,
is_pkgname_in_blacklist) on the configuration apt reads; a dry run would compute and download
every pending upgrade, which takes minutes.
"""

import importlib.machinery
import importlib.util
import json
import sys

loader = importlib.machinery.SourceFileLoader("unattended_upgrade", "/usr/bin/unattended-upgrade")
spec = importlib.util.spec_from_loader("unattended_upgrade", loader)
uu = importlib.util.module_from_spec(spec)
loader.exec_module(uu)
blacklist = uu.apt_pkg.config.value_list("Unattended-Upgrade::Package-Blacklist")
json.dump({
    "origins": uu.get_allowed_origins(),
    "blacklist": blacklist,
    "held": {name: bool(uu.is_pkgname_in_blacklist(name, blacklist)) for name in sys.argv[1:]},
    "update_lists": uu.apt_pkg.config.find("APT::Periodic::Update-Package-Lists"),
    "unattended_upgrade": uu.apt_pkg.config.find("APT::Periodic::Unattended-Upgrade"),
    "automatic_reboot": uu.apt_pkg.config.find_b("Unattended-Upgrade::Automatic-Reboot", False),
}, sys.stdout)
