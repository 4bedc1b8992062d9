# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The built machine's own facts for image-manifest.json, read on the guest at the end of a build.

    sudo python3 image_facts.py [--admin-user vaultadmin] [--venv /opt/vaultcube/venv] > image-facts.json

Standard library only (Python 3.8+: Ubuntu 24.04's 3.12, Debian 12's 3.11). Every value is read
from the machine as installed: package database, kernel module files, toolkit version files, the
AI venv's package metadata. Something that is not installed is null - never a default, never a
guess. Nothing is imported from the frameworks (metadata only: importing torch takes seconds and
needs no GPU to tell its version).
"""
import argparse
import datetime
import glob
import json
import os
import platform
import re
import subprocess
import sys

FRAMEWORKS = ["torch", "torchvision", "torchaudio", "tensorflow", "tensorflow-cpu", "vllm", "nvidia-ml-py", "numpy"]
# Packages whose versions the manifest reports when installed (a pattern each; the first match wins).
PACKAGES = {
    "docker": r"^(docker-ce|docker\.io|moby-engine)$",
    "containerd": r"^(containerd\.io|containerd)$",
    "openssh_server": r"^openssh-server$",
    "python3": r"^python3$",
    "nvidia_container_toolkit": r"^nvidia-container-toolkit$",
    "cudnn": r"^(libcudnn9-cuda-1[0-9]|libcudnn9|libcudnn8|nvidia-cudnn)$",
}
DRIVER_PACKAGE = re.compile(r"^(nvidia-driver(-[0-9]+)?(-open|-server|-server-open)?|nvidia-open(-[0-9]+)?|cuda-drivers(-[0-9]+)?|"
                            r"nvidia-kernel-dkms|nvidia-open-kernel-dkms|nvidia-dkms-[0-9]+(-open|-server|-server-open)?)$")
CUDA_PACKAGE = re.compile(r"^(cuda-toolkit(-[0-9]+-[0-9]+)?|nvidia-cuda-toolkit)$")


def run(argv, timeout=30):
    """(rc, stdout) of a command; rc None when it could not start."""
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.SubprocessError):
        return None, ""
    return proc.returncode, proc.stdout


def read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return None


def parse_os_release(text):
    values = {}
    for line in (text or "").splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            values[key.strip()] = value.strip().strip('"').strip("'")
    return {
        "id": values.get("ID"),
        "name": values.get("NAME"),
        "version_id": values.get("VERSION_ID"),
        "version": values.get("VERSION"),
        "codename": values.get("VERSION_CODENAME"),
        "pretty_name": values.get("PRETTY_NAME"),
    }


def parse_dpkg(text):
    """{package: version} of installed packages, from dpkg-query -W -f '${Package}\\t${Version}\\t${db:Status-Status}\\n'."""
    installed = {}
    for line in (text or "").splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and parts[2] == "installed":
            installed[parts[0]] = parts[1]
    return installed


def pick_packages(installed, pattern):
    rx = re.compile(pattern) if isinstance(pattern, str) else pattern
    return {name: version for name, version in sorted(installed.items()) if rx.search(name)}


def first_package(installed, pattern):
    found = pick_packages(installed, pattern)
    if not found:
        return None
    name = sorted(found)[0]
    return {"package": name, "version": found[name]}


def parse_nvcc(text):
    """'release 12.8, V12.8.93' -> {'version': '12.8', 'build': '12.8.93'}; None when absent."""
    match = re.search(r"release (\d+\.\d+), V(\d+\.\d+\.\d+)", text or "")
    return {"version": match.group(1), "build": match.group(2)} if match else None


def parse_cuda_version_json(text):
    try:
        data = json.loads(text or "")
    except ValueError:
        return None
    version = (data.get("cuda") or {}).get("version") if isinstance(data, dict) else None
    return version or None


def parse_cudnn_header(text):
    parts = {}
    for key in ("CUDNN_MAJOR", "CUDNN_MINOR", "CUDNN_PATCHLEVEL"):
        match = re.search(r"#define %s\s+(\d+)" % key, text or "")
        if not match:
            return None
        parts[key] = match.group(1)
    return "%s.%s.%s" % (parts["CUDNN_MAJOR"], parts["CUDNN_MINOR"], parts["CUDNN_PATCHLEVEL"])


def module_flavour(license_text):
    """The open kernel modules are 'Dual MIT/GPL'; the proprietary ones say 'NVIDIA'."""
    text = (license_text or "").strip()
    if not text:
        return None
    return "open" if "GPL" in text else "proprietary"


def parse_sshd_t(text):
    keep = ("passwordauthentication", "permitrootlogin", "kbdinteractiveauthentication", "pubkeyauthentication",
            "allowusers", "kexalgorithms", "ciphers", "macs", "port")
    found = {}
    for line in (text or "").splitlines():
        key, _sep, value = line.strip().partition(" ")
        if key in keep:
            found[key] = value.split(",") if key in ("kexalgorithms", "ciphers", "macs") else value
    return found or None


def kernels(boot="/boot"):
    versions = sorted((os.path.basename(p)[len("vmlinuz-"):] for p in glob.glob(os.path.join(boot, "vmlinuz-*"))),
                      key=version_key)
    default = None
    for link in ("/boot/vmlinuz", "/vmlinuz"):
        if os.path.islink(link):
            default = os.path.basename(os.readlink(link))[len("vmlinuz-"):] or None
            break
    return {"running": platform.release(), "installed": versions, "default": default or (versions[-1] if versions else None)}


def version_key(text):
    return [int(p) if p.isdigit() else p for p in re.split(r"[.\-+~]", text)]


def nvidia_driver(installed, kernel_info):
    """The driver as installed: the nvidia kernel module of each installed kernel, the user-space library."""
    modules = {}
    for kver in kernel_info["installed"]:
        rc, version = run(["modinfo", "-k", kver, "-F", "version", "nvidia"])
        if rc == 0 and version.strip():
            _rc, license_text = run(["modinfo", "-k", kver, "-F", "license", "nvidia"])
            modules[kver] = {"version": version.strip(), "flavour": module_flavour(license_text)}
    libs = sorted(glob.glob("/usr/lib/*-linux-gnu/libnvidia-ml.so.[0-9]*.*") + glob.glob("/usr/lib64/libnvidia-ml.so.[0-9]*.*"))
    userspace = re.sub(r"^.*libnvidia-ml\.so\.", "", libs[-1]) if libs else None
    packages = pick_packages(installed, DRIVER_PACKAGE)
    if not modules and userspace is None and not packages:
        return None
    default = modules.get(kernel_info["default"]) or (modules[sorted(modules, key=version_key)[-1]] if modules else None)
    return {
        "version": default["version"] if default else userspace,
        "kernel_module_flavour": default["flavour"] if default else None,
        "kernel_modules": modules,
        "userspace_version": userspace,
        "packages": packages,
    }


def cuda(installed):
    toolkits = []
    for nvcc in sorted(set(glob.glob("/usr/local/cuda-*/bin/nvcc") + ["/usr/bin/nvcc", "/usr/local/cuda/bin/nvcc"])):
        if not os.path.exists(nvcc):
            continue
        rc, out = run([nvcc, "--version"])
        parsed = parse_nvcc(out) if rc == 0 else None
        if parsed:
            parsed["nvcc"] = os.path.realpath(nvcc)
            if all(t["nvcc"] != parsed["nvcc"] for t in toolkits):
                toolkits.append(parsed)
    default = parse_cuda_version_json(read("/usr/local/cuda/version.json"))
    packages = pick_packages(installed, CUDA_PACKAGE)
    if not toolkits and default is None and not packages:
        return None
    best = sorted(toolkits, key=lambda t: version_key(t["build"]))[-1] if toolkits else None
    return {"version": default or (best["build"] if best else None), "toolkits": toolkits, "packages": packages}


def cudnn(installed):
    for header in sorted(glob.glob("/usr/include/cudnn_version*.h") + glob.glob("/usr/include/*-linux-gnu/cudnn_version*.h")
                         + glob.glob("/usr/local/cuda*/include/cudnn_version.h")):
        version = parse_cudnn_header(read(header))
        if version:
            return {"version": version, "source": header}
    pkg = first_package(installed, PACKAGES["cudnn"])
    return {"version": pkg["version"], "source": pkg["package"]} if pkg else None


def container_toolkit(installed):
    rc, out = run(["nvidia-ctk", "--version"])
    match = re.search(r"version (\d+\.\d+\.\d+)", out or "") if rc == 0 else None
    pkg = first_package(installed, PACKAGES["nvidia_container_toolkit"])
    if not match and not pkg:
        return None
    return {"version": match.group(1) if match else None, "package_version": pkg["version"] if pkg else None}


def docker(installed):
    pkg = first_package(installed, PACKAGES["docker"])
    rc, out = run(["docker", "version", "--format", "{{.Server.Version}}"])
    engine = out.strip() if rc == 0 and out.strip() else None
    if not pkg and engine is None:
        return None
    return {"engine": engine, "package": pkg["package"] if pkg else None, "package_version": pkg["version"] if pkg else None}


VENV_PROBE = ("import importlib.metadata as m, json, sys\n"
              "def v(n):\n"
              "    try:\n"
              "        return m.version(n)\n"
              "    except m.PackageNotFoundError:\n"
              "        return None\n"
              "print(json.dumps({'python': '%d.%d.%d' % sys.version_info[:3], 'packages': {n: v(n) for n in sys.argv[1:]}}))\n")


def ai_venv(path):
    python = os.path.join(path, "bin", "python")
    if not os.path.exists(python):
        return None
    rc, out = run([python, "-c", VENV_PROBE] + FRAMEWORKS, timeout=60)
    try:
        data = json.loads(out) if rc == 0 else None
    except ValueError:
        data = None
    if data is None:
        return {"path": path, "python": None, "frameworks": None, "error": "the venv's python did not answer (rc %s)" % rc}
    return {"path": path, "python": data["python"], "frameworks": data["packages"]}


def admin(user):
    rc, out = run(["getent", "passwd", user])
    if rc != 0 or not out.strip():
        return {"user": user, "exists": False}
    home = out.strip().split(":")[5]
    keys = read(os.path.join(home, ".ssh", "authorized_keys")) or ""
    key_lines = [line for line in keys.splitlines() if re.match(r"^(ssh-|ecdsa-|sk-)", line.strip())]
    _rc, groups = run(["id", "-nG", user])
    return {"user": user, "exists": True, "groups": sorted(groups.split()),
            "authorized_keys": len(key_lines), "build_key_present": any("vaultcube-build-key" in line for line in key_lines)}


def collect(admin_user, venv):
    _rc, dpkg = run(["dpkg-query", "-W", "-f", "${Package}\t${Version}\t${db:Status-Status}\n"], timeout=60)
    installed = parse_dpkg(dpkg)
    kernel_info = kernels()
    _rc, sshd = run(["sshd", "-T"]) if os.path.exists("/usr/sbin/sshd") else (None, "")
    if not sshd:
        _rc, sshd = run(["/usr/sbin/sshd", "-T"])
    return {
        "schema": 1,
        "collected_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "os": parse_os_release(read("/etc/os-release")),
        "architecture": platform.machine(),
        "kernel": kernel_info,
        "packages": {key: first_package(installed, pattern) for key, pattern in PACKAGES.items()},
        "docker": docker(installed),
        "nvidia_driver": nvidia_driver(installed, kernel_info),
        "cuda": cuda(installed),
        "cudnn": cudnn(installed),
        "nvidia_container_toolkit": container_toolkit(installed),
        "ai_venv": ai_venv(venv),
        "admin": admin(admin_user),
        "sshd": parse_sshd_t(sshd),
        "package_count": len(installed),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--admin-user", default="vaultadmin")
    parser.add_argument("--venv", default="/opt/vaultcube/venv")
    args = parser.parse_args(argv)
    json.dump(collect(args.admin_user, args.venv), sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
