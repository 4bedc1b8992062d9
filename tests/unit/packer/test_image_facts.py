# -*- coding: utf-8 -*-
"""packer/scripts/image_facts.py: the parsers, and a real run on this machine."""
import glob
import json
import os
import platform
import shutil
import subprocess
import sys

import pytest

SCRIPTS = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "packer", "scripts"))
sys.path.insert(0, SCRIPTS)
import image_facts  # noqa: E402

UBUNTU_OS_RELEASE = """PRETTY_NAME="Ubuntu 24.04.3 LTS"
NAME="Ubuntu"
VERSION_ID="24.04"
VERSION="24.04.3 LTS (Noble Numbat)"
VERSION_CODENAME=noble
ID=ubuntu
"""


def test_os_release():
    assert image_facts.parse_os_release(UBUNTU_OS_RELEASE) == {
        "id": "ubuntu", "name": "Ubuntu", "version_id": "24.04", "version": "24.04.3 LTS (Noble Numbat)",
        "codename": "noble", "pretty_name": "Ubuntu 24.04.3 LTS"}
    assert image_facts.parse_os_release(None)["id"] is None


def test_dpkg_keeps_installed_packages_only():
    text = "docker.io\t20.10.24+dfsg1-1+deb12u1\tinstalled\nnvidia-driver\t550.163.01-2\tconfig-files\nvim\t2:9.0\tinstalled\n"
    installed = image_facts.parse_dpkg(text)
    assert installed == {"docker.io": "20.10.24+dfsg1-1+deb12u1", "vim": "2:9.0"}
    assert image_facts.first_package(installed, image_facts.PACKAGES["docker"]) == {"package": "docker.io", "version": "20.10.24+dfsg1-1+deb12u1"}
    assert image_facts.first_package(installed, image_facts.PACKAGES["nvidia_container_toolkit"]) is None


@pytest.mark.parametrize("name", ["nvidia-driver-570-open", "nvidia-open", "cuda-drivers-580", "nvidia-driver", "nvidia-open-kernel-dkms",
                                  "nvidia-dkms-580-open", "nvidia-driver-580-server-open"])
def test_driver_package_names(name):
    assert image_facts.DRIVER_PACKAGE.search(name)


@pytest.mark.parametrize("name", ["nvidia-driver-libs", "libnvidia-ml1", "nvidia-smi", "nvidia-container-toolkit"])
def test_not_driver_packages(name):
    assert not image_facts.DRIVER_PACKAGE.search(name)


def test_nvcc_version():
    out = "nvcc: NVIDIA (R) Cuda compiler driver\nCuda compilation tools, release 12.8, V12.8.93\nBuild cuda_12.8.r12.8/compiler.35583870_0\n"
    assert image_facts.parse_nvcc(out) == {"version": "12.8", "build": "12.8.93"}
    assert image_facts.parse_nvcc("command not found") is None


def test_cuda_version_json():
    assert image_facts.parse_cuda_version_json('{"cuda": {"name": "CUDA SDK", "version": "13.0.1"}}') == "13.0.1"
    assert image_facts.parse_cuda_version_json("not json") is None
    assert image_facts.parse_cuda_version_json(None) is None


def test_cudnn_header():
    header = "#define CUDNN_MAJOR 9\n#define CUDNN_MINOR 8\n#define CUDNN_PATCHLEVEL 0\n"
    assert image_facts.parse_cudnn_header(header) == "9.8.0"
    assert image_facts.parse_cudnn_header("#define CUDNN_MAJOR 9\n") is None


@pytest.mark.parametrize("license_text, flavour", [("Dual MIT/GPL\n", "open"), ("NVIDIA\n", "proprietary"), ("", None)])
def test_kernel_module_flavour(license_text, flavour):
    assert image_facts.module_flavour(license_text) == flavour


def test_sshd_t():
    text = "port 22\npasswordauthentication no\npermitrootlogin no\nkexalgorithms sntrup761x25519-sha512@openssh.com,curve25519-sha256\nx11forwarding no\n"
    assert image_facts.parse_sshd_t(text) == {"port": "22", "passwordauthentication": "no", "permitrootlogin": "no",
                                              "kexalgorithms": ["sntrup761x25519-sha512@openssh.com", "curve25519-sha256"]}
    assert image_facts.parse_sshd_t("") is None


def test_version_order():
    assert sorted(["6.8.0-9-generic", "6.8.0-10-generic", "6.1.0-57-amd64"], key=image_facts.version_key) == [
        "6.1.0-57-amd64", "6.8.0-9-generic", "6.8.0-10-generic"]


def test_a_venv_without_python_is_null(tmp_path):
    assert image_facts.ai_venv(str(tmp_path / "none")) is None


def test_a_venv_reports_installed_distributions_and_null_for_missing_ones(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    found = image_facts.ai_venv(str(venv))
    assert found["python"] == "%d.%d.%d" % sys.version_info[:3]
    assert found["frameworks"] == {name: None for name in image_facts.FRAMEWORKS}


@pytest.mark.skipif(not shutil.which("dpkg-query"), reason="needs a Debian-family machine")
def test_a_real_run_on_this_machine_reports_it_as_it_is():
    proc = subprocess.run([sys.executable, os.path.join(SCRIPTS, "image_facts.py"), "--admin-user", "root", "--venv", "/nonexistent"],
                          capture_output=True, text=True, check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr
    facts = json.loads(proc.stdout)
    with open("/etc/os-release") as handle:
        assert facts["os"] == image_facts.parse_os_release(handle.read())
    assert facts["kernel"]["running"] == platform.release()
    assert facts["architecture"] == platform.machine()
    assert facts["ai_venv"] is None
    assert facts["package_count"] > 50
    dpkg = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "python3"], capture_output=True, text=True, check=False)
    if dpkg.returncode == 0:
        assert facts["packages"]["python3"]["version"] == dpkg.stdout
    if not (os.path.exists("/proc/driver/nvidia/version") or glob.glob("/usr/lib/*-linux-gnu/libnvidia-ml.so.*")
            or image_facts.pick_packages(image_facts.parse_dpkg(image_facts.run(
                ["dpkg-query", "-W", "-f", "${Package}\t${Version}\t${db:Status-Status}\n"])[1]), image_facts.DRIVER_PACKAGE)):
        assert facts["nvidia_driver"] is None  # no driver here: null, not a default
    assert facts["admin"]["user"] == "root" and facts["admin"]["exists"] is True
