# -*- coding: utf-8 -*-
"""cuda_facts with real executables standing in for nvcc, and the real device-query child process
(on a machine without libcuda it must report why it found no device)."""
import json

import pytest
from ansible.module_utils.testing import patch_module_args
from deprecation import alias_deprecated, deprecations, forget_deprecations

from ansible_collections.vaultcube.demobox.plugins.module_utils import _cuda
from ansible_collections.vaultcube.demobox.plugins.modules import cuda_facts


def nvcc(path, release, build):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\necho 'Cuda compilation tools, release %s, V%s'\n" % (release, build))
    path.chmod(0o755)
    return str(path)


def run(args, capsys, monkeypatch, defaults=()):
    monkeypatch.setattr(_cuda, "DEFAULT_NVCC_GLOBS", tuple(defaults))
    monkeypatch.setenv("PATH", "/nonexistent")
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            cuda_facts.main()
    return exc.value.code, json.loads(capsys.readouterr().out)


def test_finds_the_wanted_toolkit_among_several(tmp_path, capsys, monkeypatch):
    a = nvcc(tmp_path / "cuda-12.8" / "bin" / "nvcc", "12.8", "12.8.93")
    b = nvcc(tmp_path / "cuda-13.0" / "bin" / "nvcc", "13.0", "13.0.88")
    code, out = run({"version": "13.0", "search_paths": [str(tmp_path / "cuda-*" / "bin" / "nvcc")],
                     "device_query": False}, capsys, monkeypatch)
    assert code == 0 and out["changed"] is False
    assert [t["nvcc"] for t in out["toolkits"]] == [a, b]
    assert out["toolkit"] == {"nvcc": b, "version": "13.0", "build": "13.0.88",
                              "cuda_home": str(tmp_path / "cuda-13.0"), "error": None}
    assert out["device_query_error"] == "the device query was turned off"
    assert out["msg"].startswith("Found CUDA 12.8 at %s, CUDA 13.0 at %s; no CUDA device" % (a, b))


def test_a_broken_nvcc_is_reported_not_fatal(tmp_path, capsys, monkeypatch):
    bad = tmp_path / "bin" / "nvcc"
    bad.parent.mkdir()
    bad.write_text("#!/bin/sh\necho 'cicc: not found' >&2\nexit 1\n")
    bad.chmod(0o755)
    code, out = run({"version": "13.0", "device_query": False}, capsys, monkeypatch, defaults=[str(bad)])
    assert code == 0 and out["toolkit"] is None
    assert out["toolkits"] == [{"nvcc": str(bad), "version": None, "build": None, "cuda_home": str(tmp_path),
                                "error": "cicc: not found"}]
    assert out["msg"].startswith("Found no CUDA toolkit;")


def test_real_device_query_child_on_a_host_without_libcuda(tmp_path, capsys, monkeypatch):
    import ctypes.util
    if ctypes.util.find_library("cuda"):
        pytest.skip("this machine has libcuda; the no-driver path cannot be shown here")
    code, out = run({}, capsys, monkeypatch)
    assert code == 0 and out["devices"] == [] and out["driver_cuda_version"] is None
    assert out["device_query_error"] == ("the CUDA driver library libcuda.so.1 was not found (no NVIDIA driver is "
                                         "installed)")


def test_a_worker_that_dies_is_one_sentence(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(_cuda, "WORKER_MAIN", "import sys\nsys.stderr.write('Segmentation fault\\n')\nsys.exit(139)\n")
    code, out = run({}, capsys, monkeypatch)
    assert out["device_query_error"] == "the device query exited with status 139: Segmentation fault"


def test_a_hung_worker_is_stopped(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(_cuda, "WORKER_MAIN", "import time\ntime.sleep(60)\n")
    code, out = run({"query_timeout": 1}, capsys, monkeypatch)
    assert out["device_query_error"] == "the device query did not finish within its timeout of 1s and was stopped"


def test_bad_timeout(capsys, monkeypatch):
    code, out = run({"query_timeout": 0}, capsys, monkeypatch)
    assert code == 1 and out["msg"] == "query_timeout must be 1 second or more, got 0."


def test_the_old_name_python_still_works_and_is_deprecated(tmp_path, capsys, monkeypatch):
    """python is the old name of worker_python: it still chooses the interpreter, and Ansible says it is deprecated."""
    forget_deprecations()
    code, out = run({"python": str(tmp_path / "nope")}, capsys, monkeypatch)
    assert code == 1 and out["msg"].startswith("worker_python %s is not an executable file: " % (tmp_path / "nope"))
    assert deprecations(out) == [alias_deprecated("python")]
