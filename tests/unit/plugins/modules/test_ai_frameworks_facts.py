# -*- coding: utf-8 -*-
"""ai_frameworks_facts: the probe runs in-process against stand-ins for torch/tensorflow/vLLM
(tests/unit/fake_frameworks.py) and NVML (fake_nvml.py); one test runs the real child process."""
import json
import sys
import types

import pytest
from ansible.module_utils.testing import patch_module_args
from deprecation import alias_deprecated, deprecations, forget_deprecations
from fake_frameworks import fake_tensorflow, fake_torch
from fake_nvml import FakeNVML, h200, rtx5090

from ansible_collections.vaultcube.demobox.plugins.module_utils import _frameworks_probe as P
from ansible_collections.vaultcube.demobox.plugins.module_utils import _nvml
from ansible_collections.vaultcube.demobox.plugins.modules import ai_frameworks_facts as M

H200 = ("NVIDIA H200", (9, 0), 143771)
RTX5090 = ("NVIDIA GeForce RTX 5090", (12, 0), 32607)


def install(monkeypatch, torch=None, tensorflow=None, vllm=None):
    """Make the in-process probe import these stand-ins (None: the framework is missing)."""
    for name, module in (("torch", torch), ("tensorflow", tensorflow), ("vllm", vllm)):
        if module is None:
            monkeypatch.setitem(sys.modules, name, None)   # import raises ImportError
        else:
            monkeypatch.setitem(sys.modules, name, module)


def in_process_probe(monkeypatch, crash=()):
    def run_probe(python, framework, size, timeout, workdir):
        if framework in crash:
            return None, "The %s probe under %s was killed by SIGSEGV." % (framework, python)
        result = json.loads(json.dumps(P.PROBES[framework](size), default=str))
        result["framework"] = framework
        result["elapsed_s"] = 0.01
        return result, None
    monkeypatch.setattr(M, "run_probe", run_probe)


def run_module(args, nvml, capsys, monkeypatch):
    monkeypatch.setattr(_nvml, "load_binding", lambda paths: (nvml, None if nvml else "no pynvml"))
    args = dict({"worker_python": sys.executable, "matmul_size": 8}, **args)
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            M.main()
    return exc.value.code, json.loads(capsys.readouterr().out)


def checks(out):
    return {c["name"]: c for c in out["checks"]}


def test_torch_on_every_h200(capsys, monkeypatch):
    install(monkeypatch, torch=fake_torch([H200, H200]))
    in_process_probe(monkeypatch)
    nvml = FakeNVML([h200(uuid="a"), h200(uuid="b")], driver="580.159.04")
    code, out = run_module({"expected_torch_cuda": "13.0", "expected_versions": {"torch": "2.11.0+cu130"}},
                           nvml, capsys, monkeypatch)
    assert code == 0 and out["changed"] is False and out["passed"] is True, out["msg"]
    c = checks(out)
    assert c["frameworks.torch.import"]["status"] == "passed"
    assert c["frameworks.torch.gpus"]["message"] == "torch sees all 2 GPU(s): 2 x NVIDIA H200."
    assert c["frameworks.torch.cuda_build"]["status"] == "passed"
    assert c["frameworks.torch.arch"]["status"] == "passed"
    assert c["frameworks.torch.version"]["status"] == "passed"
    assert c["frameworks.torch.matmul"]["message"] == "A 8x8 fp32 matmul is right on cuda:0, cuda:1."
    assert out["metrics"]["torch_matmul_ok"] == [True, True]
    assert out["ansible_facts"]["ai_frameworks"]["torch"]["devices"][1]["compute_capability"] == "9.0"
    assert out["msg"] == "PyTorch 2.11.0+cu130 on 2 GPU(s) (Python %s at %s)." % (
        out["ansible_facts"]["ai_frameworks"]["python"]["python"], sys.executable)
    assert [t["title"] for t in out["tables"]] == ["AI frameworks", "Matmul per device (fp32, checked against float64)"]
    assert out["tables"][0]["rows"][0][:3] == ["PyTorch", "2.11.0+cu130", "13.0"]
    # On Hopper there is no TensorFlow note.
    assert "frameworks.tensorflow" not in c


def test_cpu_host_says_cpu(capsys, monkeypatch):
    install(monkeypatch, torch=fake_torch([], version="2.13.0+cpu", cuda=None, arch_list=()))
    in_process_probe(monkeypatch)
    code, out = run_module({}, FakeNVML(init_error=12), capsys, monkeypatch)
    assert code == 0 and out["passed"] is True
    c = checks(out)
    assert c["frameworks.torch.gpus"]["message"] == (
        "torch 2.13.0+cpu (a CPU-only build) sees no GPU, as expected here: it runs on the CPU.")
    assert c["frameworks.torch.cuda_build"]["status"] == "info"
    assert c["frameworks.torch.matmul"]["message"] == "A 8x8 fp32 matmul is right on cpu (the CPU: no GPU here)."
    assert "frameworks.torch.arch" not in c
    assert out["msg"].startswith("PyTorch 2.13.0+cpu on the CPU (Python ")


def test_cu126_torch_on_rtx_5090_fails_arch_and_matmul(capsys, monkeypatch):
    arch = ("sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90")
    install(monkeypatch, torch=fake_torch([RTX5090], version="2.11.0+cu126", cuda="12.6", arch_list=arch,
                                          broken=["cuda:0"]))
    in_process_probe(monkeypatch)
    code, out = run_module({"expected_torch_cuda": "13.0"}, FakeNVML([rtx5090()]), capsys, monkeypatch)
    assert code == 1 and out["failed"] and out["passed"] is False
    c = checks(out)
    assert c["frameworks.torch.arch"]["message"] == (
        "torch 2.11.0+cu126 has no code for GPU 0 (NVIDIA GeForce RTX 5090, compute capability 12.0) "
        "(its architectures: sm_50 sm_60 sm_70 sm_75 sm_80 sm_86 sm_90).")
    assert c["frameworks.torch.matmul"]["message"] == (
        "PyTorch matmul failed on cuda:0 (RuntimeError: CUDA error: no kernel image is available for execution "
        "on the device).")
    assert c["frameworks.torch.cuda_build"]["message"] == "The CUDA torch 2.11.0+cu126 was built for: expected 13.0, found 12.6."
    # Blackwell: TensorFlow was not checked, and the report says why.
    assert c["frameworks.tensorflow"]["message"].startswith(
        "TensorFlow not checked: no official TensorFlow build carries code for compute capability 12.0 (sm_120); "
        "use NVIDIA's NGC TensorFlow container")
    assert len(out["failures"]) == 3


def test_wrong_result_and_missing_gpu(capsys, monkeypatch):
    install(monkeypatch, torch=fake_torch([H200], wrong=["cuda:0"]))
    in_process_probe(monkeypatch)
    code, out = run_module({"fail_on_threshold": False, "expected_gpu_count": 2}, FakeNVML([h200()]), capsys, monkeypatch)
    assert code == 0 and out["passed"] is False
    c = checks(out)
    assert c["frameworks.torch.gpus"]["message"] == "torch sees 1 of the 2 GPU(s) here."
    assert c["frameworks.torch.matmul"]["status"] == "failed"
    assert "relative error" in c["frameworks.torch.matmul"]["message"]


def test_cpu_build_on_a_gpu_host_and_cuda_error(capsys, monkeypatch):
    install(monkeypatch, torch=fake_torch([], version="2.11.0+cpu", cuda=None, arch_list=()))
    in_process_probe(monkeypatch)
    code, out = run_module({"fail_on_threshold": False}, FakeNVML([h200()]), capsys, monkeypatch)
    c = checks(out)
    assert c["frameworks.torch.gpus"]["message"] == "torch sees 0 of the 1 GPU(s) here: it is a CPU-only build."
    assert c["frameworks.torch.arch"]["status"] == "skipped"
    install(monkeypatch, torch=fake_torch([H200], cuda_error="CUDA driver initialization failed"))
    code, out = run_module({"fail_on_threshold": False}, FakeNVML([h200()]), capsys, monkeypatch)
    assert checks(out)["frameworks.torch.gpus"]["message"] == (
        "torch sees 0 of the 1 GPU(s) here: RuntimeError: CUDA driver initialization failed.")


def test_missing_framework_and_crashed_probe(capsys, monkeypatch):
    install(monkeypatch)
    in_process_probe(monkeypatch, crash=["vllm"])
    code, out = run_module({"frameworks": ["torch", "vllm"], "fail_on_threshold": False}, None, capsys, monkeypatch)
    c = checks(out)
    assert c["frameworks.torch.import"]["status"] == "failed"
    assert c["frameworks.torch.import"]["message"].startswith("PyTorch does not import under %s: " % sys.executable)
    assert "torch" in c["frameworks.torch.import"]["message"]
    assert c["frameworks.vllm.import"]["message"] == "The vllm probe under %s was killed by SIGSEGV." % sys.executable
    assert out["environment"]["nvml_reason"] == "no pynvml"


def test_tensorflow_on_cpu_and_on_gpus(capsys, monkeypatch):
    install(monkeypatch, tensorflow=fake_tensorflow([], cuda=None))
    in_process_probe(monkeypatch)
    code, out = run_module({"frameworks": ["tensorflow"]}, FakeNVML(init_error=12), capsys, monkeypatch)
    assert code == 0 and out["passed"] is True
    c = checks(out)
    assert c["frameworks.tensorflow.gpus"]["message"] == (
        "TensorFlow 2.21.0 (a CPU-only build) sees no GPU, as expected here: it runs on the CPU.")
    assert c["frameworks.tensorflow.matmul"]["message"] == "A 8x8 fp32 matmul is right on /CPU:0 (the CPU: no GPU here)."

    install(monkeypatch, tensorflow=fake_tensorflow([("NVIDIA GeForce RTX 5090", (12, 0))], broken=["/GPU:0"]))
    code, out = run_module({"frameworks": ["tensorflow"], "fail_on_threshold": False}, FakeNVML([rtx5090()]),
                           capsys, monkeypatch)
    c = checks(out)
    assert c["frameworks.tensorflow.gpus"]["status"] == "passed"
    assert "Note: no official TensorFlow build carries code for compute capability 12.0 (sm_120)" in \
        c["frameworks.tensorflow.gpus"]["message"]
    assert c["frameworks.tensorflow.matmul"]["status"] == "failed"
    assert "frameworks.tensorflow" not in c   # it was checked, so no separate note

    install(monkeypatch, tensorflow=fake_tensorflow([("NVIDIA H200", (9, 0))]))
    code, out = run_module({"frameworks": ["tensorflow"], "expected_gpu_count": 2, "fail_on_threshold": False},
                           FakeNVML([h200()]), capsys, monkeypatch)
    assert checks(out)["frameworks.tensorflow.gpus"]["message"] == "TensorFlow 2.21.0 sees 1 of the 2 GPU(s) here."


def fake_vllm(version="0.25.0"):
    vllm = types.ModuleType("vllm")
    vllm.__version__ = version
    return vllm


@pytest.mark.parametrize("installed,status", [("2.11.0+cu130", "passed"), ("2.12.0+cu130", "failed"), (None, "info")])
def test_vllm_torch_match(installed, status, capsys, monkeypatch):
    install(monkeypatch, torch=fake_torch([H200]), vllm=fake_vllm())
    monkeypatch.setitem(sys.modules, "vllm.platforms", None)
    requires = ["numpy", "torch==2.11.0", "torchaudio==2.11.0", 'pytest; extra == "test"'] if installed else ["numpy"]
    versions = {"torch": installed or "2.11.0+cu130", "vllm": "0.25.0"}
    monkeypatch.setattr("importlib.metadata.requires", lambda name: requires)
    monkeypatch.setattr("importlib.metadata.version", lambda name: versions[name])
    in_process_probe(monkeypatch)
    code, out = run_module({"frameworks": ["vllm"], "fail_on_threshold": False,
                            "expected_versions": {"vllm": "0.25.0"}}, FakeNVML([h200()]), capsys, monkeypatch)
    c = checks(out)
    assert c["frameworks.vllm.torch_match"]["status"] == status
    assert c["frameworks.vllm.version"]["status"] == "passed"
    if status == "failed":
        assert c["frameworks.vllm.torch_match"]["message"] == (
            "vLLM 0.25.0 was built against torch 2.11.0, but torch 2.12.0+cu130 is installed.")
    vllm_info = out["ansible_facts"]["ai_frameworks"]["vllm"]
    assert vllm_info["devices"][0]["name"] == "NVIDIA H200" and "platform_error" in vllm_info


def test_version_pin_mismatch(capsys, monkeypatch):
    install(monkeypatch, torch=fake_torch([H200], version="2.11.0+cu128", cuda="12.8"))
    in_process_probe(monkeypatch)
    code, out = run_module({"expected_versions": {"torch": "2.11.0+cu130"}}, FakeNVML([h200()]), capsys, monkeypatch)
    assert code == 1
    assert out["msg"] == "PyTorch 2.11.0+cu130 is pinned, but 2.11.0+cu128 is installed."


@pytest.mark.parametrize("args,message", [
    ({"worker_python": "/nonexistent/bin/python"}, "worker_python /nonexistent/bin/python is not an executable file"),
    ({"matmul_size": 0}, "matmul_size must be between 1 and 16384, got 0."),
    ({"probe_timeout": 0}, "probe_timeout must be 1 second or more, got 0."),
    ({"expected_gpu_count": -1}, "expected_gpu_count must be 0 or more, got -1."),
    ({"frameworks": ["caffe"]}, "value of frameworks must be one or more of"),
])
def test_bad_parameters(args, message, capsys, monkeypatch):
    code, out = run_module(args, None, capsys, monkeypatch)
    assert code == 1 and out["failed"] and message in out["msg"]


def test_check_mode_says_what_it_would_run(capsys, monkeypatch):
    code, out = run_module({"_ansible_check_mode": True, "frameworks": ["torch", "torch", "vllm"]}, None, capsys, monkeypatch)
    assert code == 0 and out["changed"] is False
    assert out["checks"][0]["status"] == "skipped"
    assert out["checks"][0]["message"] == "Check mode: would run the import and matmul probe of torch, vllm under %s." % sys.executable


def test_real_child_process_probe(tmp_path):
    """The probe really runs as a child of this interpreter (no torch here: a clean 'does not import')."""
    from ansible_collections.vaultcube.demobox.plugins.module_utils import _proc
    _proc.write_bundle(str(tmp_path), [P], M.WORKER_MAIN)
    result, error = M.run_probe(sys.executable, "python", 8, 60, str(tmp_path))
    assert error is None and result["framework"] == "python" and result["executable"] == sys.executable
    result, error = M.run_probe(sys.executable, "tensorflow", 8, 60, str(tmp_path))
    assert error is None and result["imported"] is False and "tensorflow" in result["error"]
    result, error = M.run_probe(sys.executable, "nonsense", 8, 60, str(tmp_path))
    assert result is None and error.startswith("The nonsense probe under %s exited with status 2: unknown framework" % sys.executable)
    result, error = M.run_probe("/bin/false", "torch", 8, 60, str(tmp_path))
    assert result is None and error == "The torch probe under /bin/false exited with status 1."


def test_probe_helpers():
    assert P.parse_output("noise\n%s{\"a\": 1}\n" % P.RESULT_MARKER) == {"a": 1}
    assert P.parse_output("%s{broken\n" % P.RESULT_MARKER) is None and P.parse_output(None) is None
    assert P._pinned(["torch==2.11.0", 'torch==9; extra == "x"'], "torch") == "2.11.0"
    assert P._pinned(["numpy"], "torch") is None
    assert M._device_text([]) == "none"


def test_the_old_name_python_works_and_is_deprecated(capsys, monkeypatch):
    forget_deprecations()
    monkeypatch.setattr(_nvml, "load_binding", lambda paths: (None, "no pynvml"))
    with patch_module_args({"python": "/nonexistent/bin/python"}):
        with pytest.raises(SystemExit) as exc:
            M.main()
    code, out = exc.value.code, json.loads(capsys.readouterr().out)
    assert code == 1 and out["msg"].startswith("worker_python /nonexistent/bin/python is not an executable file: ")
    assert deprecations(out) == [alias_deprecated("python")]


def test_the_old_name_timeout_sets_the_probe_timeout_and_is_deprecated(capsys, monkeypatch):
    forget_deprecations()
    code, out = run_module({"timeout": 0}, None, capsys, monkeypatch)
    assert code == 1 and out["msg"] == "probe_timeout must be 1 second or more, got 0."
    assert deprecations(out) == [alias_deprecated("timeout")]
