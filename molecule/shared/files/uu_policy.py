#!/usr/bin/env python3
"""Print, as JSON, the policy the installed unattended-upgrades really applies: its allowed
origins and, for sample package names, whether its own blacklist matcher holds them back.

Loads /usr/bin/unattended-upgrade as a module and calls its functions (get_allowed_origins,
is_pkgname_in_blacklist) on the configuration apt reads; a dry run would compute and download
every pending upgrade, which takes minutes.
"""

import importlib.machinery
import importlib.util
import json
import sys

SAMPLES = [
    "nvidia-driver-570-open", "nvidia-open-kernel-dkms", "libnvidia-compute-570", "cuda-toolkit-12-8",
    "libcuda1", "libcudnn9-cuda-12", "libnccl2", "firmware-nvidia-gsp", "linux-image-6.8.0-51-generic",
    "linux-image-amd64", "linux-headers-amd64", "linux-modules-6.8.0-51-generic", "linux-generic",
    "openssl", "libc6", "openssh-server", "sudo", "linux-base", "docker.io",
]

loader = importlib.machinery.SourceFileLoader("unattended_upgrade", "/usr/bin/unattended-upgrade")
spec = importlib.util.spec_from_loader("unattended_upgrade", loader)
uu = importlib.util.module_from_spec(spec)
loader.exec_module(uu)
blacklist = uu.apt_pkg.config.value_list("Unattended-Upgrade::Package-Blacklist")
json.dump({
    "origins": uu.get_allowed_origins(),
    "blacklist": blacklist,
    "held": {name: bool(uu.is_pkgname_in_blacklist(name, blacklist)) for name in SAMPLES},
    "update_lists": uu.apt_pkg.config.find("APT::Periodic::Update-Package-Lists"),
    "unattended_upgrade": uu.apt_pkg.config.find("APT::Periodic::Unattended-Upgrade"),
    "automatic_reboot": uu.apt_pkg.config.find_b("Unattended-Upgrade::Automatic-Reboot", False),
}, sys.stdout)
