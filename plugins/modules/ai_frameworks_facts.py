#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

DOCUMENTATION = r"""
---
module: ai_frameworks_facts
short_description: Check that the AI frameworks import in their venv and use every GPU
version_added: "0.1.0"
description:
  - Runs a probe under the AI venv's python (O(worker_python)), one child process per framework. The probe
    imports the framework, reports its version, the CUDA it was built for and the devices it sees,
    and runs a small fp32 matmul on every GPU it sees (on the CPU when it sees none), checked
    against a float64 reference.
  - Judges that each framework in O(frameworks) imports, that torch sees as many GPUs as NVML
    (or O(expected_gpu_count)), that torch carries code for every GPU's architecture, that every
    matmul is right, and, when given, the CUDA torch was built for (O(expected_torch_cuda)) and the
    installed versions (O(expected_versions)). For vLLM it checks that the installed torch is the
    one vLLM pins.
  - On a host without a GPU the report says the frameworks run on the CPU.
  - Where TensorFlow has no code for a GPU here (Blackwell), the report says so and points to
    NVIDIA's NGC TensorFlow container.
  - Returns the findings as C(ansible_facts.ai_frameworks). Never changes the host.
extends_documentation_fragment:
  - vaultcube.demobox.validation
  - vaultcube.demobox.validation.nvml
  - vaultcube.demobox.validation.worker
  - vaultcube.demobox.validation.action_groups
options:
  frameworks:
    description:
      - Frameworks to check.
    type: list
    elements: str
    choices: [torch, tensorflow, vllm]
    default: [torch]
  expected_gpu_count:
    description:
      - GPUs torch (and TensorFlow) must see. Default - the number NVML reports (0 without a driver).
    type: int
  expected_torch_cuda:
    description:
      - CUDA version torch must be built for, for example V(13.0) (the variant the ai_frameworks
        role chose). Not judged when unset.
    type: str
  expected_versions:
    description:
      - "Versions the frameworks must have, for example V({torch: 2.11.0+cu130, vllm: 0.25.0}). A
        version without a local label (V(+cu130)) matches any build of it. Not judged when unset."
    type: dict
  matmul_size:
    description:
      - Side of the square fp32 matrices multiplied on each device.
    type: int
    default: 1024
  probe_timeout:
    description:
      - Seconds each framework's probe may take (importing vLLM or TensorFlow and the first CUDA
        use can take a while). There is one probe per framework, so this is not a whole-run limit.
      - The name C(timeout) is a deprecated alias, to be removed in vaultcube.demobox 1.0.0 (in the
        collection's GPU modules C(timeout) is the limit of the whole run).
    type: int
    default: 600
    aliases: [timeout]
requirements:
  - The frameworks to check, installed for O(worker_python); nvidia-ml-py to count GPUs through NVML.
notes:
  - The matmul proves that each GPU computes correctly with the framework's kernels; it is not a
    benchmark (the milliseconds include first-use setup).
seealso:
  - module: vaultcube.demobox.gpu_facts
author:
  - VaultCube engineering (@vaultcube)
"""

EXAMPLES = r"""
- name: Check torch in the AI venv on every GPU.
  vaultcube.demobox.ai_frameworks_facts:

- name: Check torch, vLLM and their versions in a venv the role did not make.
  vaultcube.demobox.ai_frameworks_facts:
    worker_python: /opt/torch/.venv/bin/python3
    frameworks: [torch, vllm]
    expected_torch_cuda: "13.0"
    expected_versions: {torch: 2.11.0+cu130, vllm: 0.25.0}
"""

RETURN = r"""
ansible_facts:
  description: What the probe found.
  returned: success
  type: complex
  contains:
    ai_frameworks:
      description: Per framework its probe result (version, cuda, devices, matmul), and C(python).
      type: dict
      sample: {"python": {"python": "3.12.3", "numpy": "2.4.6"},
               "torch": {"imported": true, "version": "2.11.0+cu130", "cuda": "13.0",
                         "devices": [{"index": 0, "type": "cuda", "name": "NVIDIA H200", "compute_capability": "9.0"}],
                         "matmul": [{"device": "cuda:0", "ok": true, "max_rel_error": 1.1e-07, "ms": 0.8}]}}
changed:
  description: Always V(false).
  returned: always
  type: bool
passed:
  description: V(true) when every judged check passed, V(false) when one failed, V(null) when nothing was judged.
  returned: always
  type: bool
checks:
  description: >-
    C(frameworks.python), and per framework C(frameworks.<name>.import); for torch also C(.cuda_build),
    C(.gpus), C(.arch), C(.matmul) and C(.version); for TensorFlow C(.gpus), C(.matmul); for vLLM
    C(.torch_match), C(.version).
  returned: always
  type: list
  elements: dict
metrics:
  description: Framework versions, GPU counts each framework sees, matmul results, probe seconds.
  returned: always
  type: dict
thresholds:
  description: Expected GPU count, torch CUDA build, versions, matmul tolerance.
  returned: always
  type: dict
failures:
  description: One sentence per failed check.
  returned: always
  type: list
  elements: str
environment:
  description: Python, interpreter, NVML GPUs, and per framework its version and the CUDA it was built for.
  returned: always
  type: dict
tables:
  description: The frameworks (version, built for CUDA, devices) and the matmul per device.
  returned: always
  type: list
  elements: dict
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vaultcube.demobox.plugins.module_utils import _args, _nvml, _proc
from ansible_collections.vaultcube.demobox.plugins.module_utils import _frameworks as F
from ansible_collections.vaultcube.demobox.plugins.module_utils import _frameworks_probe as P
from ansible_collections.vaultcube.demobox.plugins.module_utils import _result as R

WORKER_MAIN = (
    "import sys\n"
    "sys.path.insert(0, __import__('os').path.dirname(__file__))\n"
    "import _frameworks_probe\n"
    "raise SystemExit(_frameworks_probe.main(sys.argv[1:]))\n"
)
LABELS = {"torch": "PyTorch", "tensorflow": "TensorFlow", "vllm": "vLLM"}


def run_probe(python, framework, size, timeout, workdir):
    """Run one framework's probe in a child; returns (result or None, error sentence or None)."""
    main = os.path.join(workdir, "worker_main.py")
    child = _proc.ChildRun([python, main, framework, str(size)], timeout=timeout,
                           workdir=tempfile.mkdtemp(prefix="probe-%s-" % framework, dir=workdir))
    child.start()
    rc = child.wait()
    result = P.parse_output(child.stdout())
    if result is not None and rc == 0:
        return result, None
    tail = child.stderr_tail(3) or child.stdout_tail(3)
    return None, "The %s probe under %s %s%s." % (
        framework, python, _proc.describe_exit(rc, child.timed_out, timeout),
        (": " + tail[-1].strip().rstrip(".")) if tail else "")


def gpu_inventory(paths):
    nvml, reason = _nvml.load_binding(paths)
    if nvml is None:
        return {"count": None, "gpus": [], "reason": reason, "system": {}}
    return _nvml.inventory(nvml, with_interconnect=False)


def _device_text(devices):
    if not devices:
        return "none"
    names = {}
    for device in devices:
        label = "CPU" if device.get("type") == "cpu" else device.get("name")
        names[label] = names.get(label, 0) + 1
    return ", ".join(("%d x %s" % (n, label)) if n > 1 else label for label, n in names.items())


def _gpu_devices(info):
    return [d for d in (info or {}).get("devices") or [] if d.get("type") == "cuda"]


def judge_torch(info, params, expected_count, nvml_gpus):
    checks = []
    version = info["version"]
    cuda = info.get("cuda")
    gpus = _gpu_devices(info)
    build = ("built for CUDA %s" % cuda) if cuda else "a CPU-only build"
    if params["expected_torch_cuda"] is not None:
        check = R.judge_equal("frameworks.torch.cuda_build", "The CUDA torch %s was built for" % version, cuda or "none",
                              params["expected_torch_cuda"])
        checks.append(check)
    else:
        checks.append(R.make_check("frameworks.torch.cuda_build", R.INFO, cuda, None, None,
                                   "torch %s is %s." % (version, build)))
    if expected_count is None:
        checks.append(R.make_check("frameworks.torch.gpus", R.INFO, len(gpus), None, None,
                                   "torch sees %d GPU(s)%s." % (len(gpus), "" if gpus else ", so it runs on the CPU")))
    elif len(gpus) == expected_count == 0:
        checks.append(R.make_check("frameworks.torch.gpus", R.PASSED, 0, {"equals": 0}, None,
                                   "torch %s (%s) sees no GPU, as expected here: it runs on the CPU." % (version, build)))
    elif len(gpus) == expected_count:
        checks.append(R.make_check("frameworks.torch.gpus", R.PASSED, len(gpus), {"equals": expected_count}, None,
                                   "torch sees all %d GPU(s): %s." % (expected_count, _device_text(gpus))))
    else:
        why = ""
        if not gpus and info.get("cuda_error"):
            why = ": %s" % info["cuda_error"]
        elif not gpus and not cuda:
            why = ": it is a CPU-only build"
        checks.append(R.make_check("frameworks.torch.gpus", R.FAILED, len(gpus), {"equals": expected_count}, None,
                                   "torch sees %d of the %d GPU(s) here%s." % (len(gpus), expected_count, why)))
    if gpus:
        missing = [g for g in gpus if g.get("compute_capability")
                   and not F.torch_arch_list_covers(info.get("arch_list"), F.version_pair(g["compute_capability"]))]
        if missing:
            checks.append(R.make_check(
                "frameworks.torch.arch", R.FAILED, info.get("arch_list"), None, None,
                "torch %s has no code for %s (its architectures: %s)." % (
                    version, ", ".join("GPU %s (%s, compute capability %s)" % (g["index"], g["name"], g["compute_capability"])
                                       for g in missing), " ".join(info.get("arch_list") or []) or "none")))
        else:
            checks.append(R.make_check(
                "frameworks.torch.arch", R.PASSED, info.get("arch_list"), None, None,
                "torch %s carries code for every GPU here (compute capability %s)." % (
                    version, ", ".join(sorted(set(g["compute_capability"] for g in gpus))))))
    elif nvml_gpus:
        checks.append(R.skipped("frameworks.torch.arch", "torch sees no GPU, so its architectures were not compared."))
    checks.append(_matmul_check("torch", info))
    return checks


def _matmul_check(framework, info):
    runs = info.get("matmul") or []
    name = "frameworks.%s.matmul" % framework
    if not runs:
        return R.skipped(name, "No matmul ran.")
    bad = [r for r in runs if not r.get("ok")]
    where = ", ".join(r["device"] for r in runs)
    if bad:
        return R.make_check(name, R.FAILED, [r.get("ok") for r in runs], {"max_rel_error": P.MATMUL_TOLERANCE}, None,
                            "%s matmul failed on %s." % (LABELS[framework], "; ".join(
                                "%s (%s)" % (r["device"], r.get("error") or "relative error %.2g" % r.get("max_rel_error", float("nan")))
                                for r in bad)))
    cpu_only = all(r["device"].upper().startswith(("CPU", "/CPU")) for r in runs)
    return R.make_check(name, R.PASSED, [r.get("ok") for r in runs], {"max_rel_error": P.MATMUL_TOLERANCE}, None,
                        "A %dx%d fp32 matmul is right on %s%s." % (
                            runs[0].get("size", 0), runs[0].get("size", 0), where,
                            " (the CPU: no GPU here)" if cpu_only else ""))


def judge_tensorflow(info, expected_count, nvml_gpus):
    checks = []
    gpus = _gpu_devices(info)
    build = ("built for CUDA %s" % info["cuda"]) if info.get("cuda") else "a CPU-only build"
    no_code = [g for g in nvml_gpus if g.get("capability") and g["capability"][0] >= 10]
    note = (" Note: %s." % F.tensorflow_note(no_code)) if no_code else ""
    if expected_count is None or (not info.get("cuda") and expected_count):
        checks.append(R.make_check("frameworks.tensorflow.gpus", R.INFO, len(gpus), None, None,
                                   "TensorFlow %s (%s) sees %d GPU(s)%s.%s" % (
                                       info["version"], build, len(gpus), "" if gpus else " and runs on the CPU", note)))
    elif len(gpus) == expected_count:
        checks.append(R.make_check("frameworks.tensorflow.gpus", R.PASSED, len(gpus), {"equals": expected_count}, None,
                                   "TensorFlow %s (%s) sees %s.%s" % (
                                       info["version"], build,
                                       ("all %d GPU(s)" % len(gpus)) if gpus else "no GPU, as expected here: it runs on the CPU",
                                       note)))
    else:
        checks.append(R.make_check("frameworks.tensorflow.gpus", R.FAILED, len(gpus), {"equals": expected_count}, None,
                                   "TensorFlow %s sees %d of the %d GPU(s) here.%s" % (
                                       info["version"], len(gpus), expected_count, note)))
    checks.append(_matmul_check("tensorflow", info))
    return checks


def judge_vllm(info):
    pinned = info.get("requires_torch")
    installed = info.get("torch")
    if pinned is None:
        return [R.make_check("frameworks.vllm.torch_match", R.INFO, installed, None, None,
                             "vLLM %s does not pin one torch version; torch %s is installed." % (info["version"], installed))]
    if F.versions_match(installed, pinned):
        return [R.make_check("frameworks.vllm.torch_match", R.PASSED, installed, {"equals": pinned}, None,
                             "vLLM %s was built against torch %s and torch %s is installed." % (info["version"], pinned, installed))]
    return [R.make_check("frameworks.vllm.torch_match", R.FAILED, installed, {"equals": pinned}, None,
                         "vLLM %s was built against torch %s, but torch %s is installed." % (info["version"], pinned, installed))]


def judge_versions(framework, info, expected):
    wanted = (expected or {}).get(framework)
    if wanted is None:
        return []
    name = "frameworks.%s.version" % framework
    installed = info.get("version")
    if F.versions_match(installed, wanted):
        return [R.make_check(name, R.PASSED, installed, {"equals": str(wanted)}, None,
                             "%s %s is installed, as pinned." % (LABELS[framework], installed))]
    return [R.make_check(name, R.FAILED, installed, {"equals": str(wanted)}, None,
                         "%s %s is pinned, but %s is installed." % (LABELS[framework], wanted, installed))]


def tables(results):
    rows = []
    matmul_rows = []
    for name in ("torch", "tensorflow", "vllm"):
        info = results.get(name)
        if not info:
            continue
        if not info.get("imported"):
            rows.append([LABELS[name], "does not import", None, info.get("error")])
            continue
        rows.append([LABELS[name], info.get("version"), info.get("cuda") or "CPU only", _device_text(info.get("devices"))])
        for run in info.get("matmul") or []:
            matmul_rows.append([LABELS[name], run["device"], "ok" if run.get("ok") else "FAILED",
                                run.get("max_rel_error"), run.get("ms"), run.get("error")])
    out = [{"title": "AI frameworks", "columns": ["framework", "version", "built for CUDA", "devices it sees"],
            "rows": rows}]
    if matmul_rows:
        out.append({"title": "Matmul per device (fp32, checked against float64)",
                    "columns": ["framework", "device", "result", "max rel. error", "ms (incl. first use)", "error"],
                    "rows": matmul_rows})
    return out


def evaluate(params, results, errors, inventory, python):
    """Turn the probe results into the contract's result."""
    checks = []
    nvml_gpus = [{"index": g["index"], "name": g["name"],
                  "capability": F.version_pair(g["compute_capability"]) if g.get("compute_capability") else None}
                 for g in inventory.get("gpus") or []]
    expected_count = params["expected_gpu_count"]
    if expected_count is None:
        expected_count = inventory.get("count")
    base = results.get("python") or {}
    if base:
        checks.append(R.make_check("frameworks.python", R.INFO, base.get("python"), None, None,
                                   "Python %s at %s (numpy %s, nvidia-ml-py %s)." % (
                                       base.get("python"), base.get("executable"), base.get("numpy") or "not installed",
                                       base.get("nvidia_ml_py") or "not installed")))
    for framework in params["frameworks"]:
        label = LABELS[framework]
        name = "frameworks.%s.import" % framework
        if framework in errors:
            checks.append(R.make_check(name, R.FAILED, False, None, None, errors[framework]))
            continue
        info = results.get(framework) or {}
        if not info.get("imported"):
            checks.append(R.make_check(name, R.FAILED, False, None, None, "%s does not import under %s: %s." % (
                label, python, (info.get("error") or "unknown error").rstrip("."))))
            continue
        checks.append(R.make_check(name, R.PASSED, info.get("version"), None, None,
                                   "%s %s imports under %s." % (label, info.get("version"), python)))
        checks.extend(judge_versions(framework, info, params["expected_versions"]))
        if framework == "torch":
            checks.extend(judge_torch(info, params, expected_count, nvml_gpus))
        elif framework == "tensorflow":
            checks.extend(judge_tensorflow(info, expected_count, nvml_gpus))
        else:
            checks.extend(judge_vllm(info))
    blackwell = [g for g in nvml_gpus if g.get("capability") and g["capability"][0] >= 10]
    if blackwell and "tensorflow" not in params["frameworks"]:
        checks.append(R.make_check("frameworks.tensorflow", R.INFO, None, None, None,
                                   "TensorFlow not checked: %s." % F.tensorflow_note(blackwell)))

    metrics = {"expected_gpu_count": expected_count, "elapsed_s": {k: v.get("elapsed_s") for k, v in results.items()}}
    environment = {"python": base.get("python"), "interpreter": python, "numpy": base.get("numpy"),
                   "nvidia_ml_py": base.get("nvidia_ml_py"), "nvml_gpu_count": inventory.get("count"),
                   "nvml_reason": inventory.get("reason"),
                   "gpus": [{"index": g["index"], "name": g["name"], "compute_capability": g.get("compute_capability")}
                            for g in inventory.get("gpus") or []],
                   "driver_version": (inventory.get("system") or {}).get("driver_version"),
                   "cuda_driver_version": (inventory.get("system") or {}).get("cuda_driver_version"),
                   "frameworks": {}}
    for framework in params["frameworks"]:
        info = results.get(framework) or {}
        if info.get("imported"):
            metrics["%s_version" % framework] = info.get("version")
            metrics["%s_gpus" % framework] = len(_gpu_devices(info))
            if info.get("matmul"):
                metrics["%s_matmul_ok" % framework] = [r.get("ok") for r in info["matmul"]]
            environment["frameworks"][framework] = {"version": info.get("version"), "cuda": info.get("cuda"),
                                                    "devices": _device_text(info.get("devices"))}
    thresholds = {"expected_gpu_count": expected_count, "expected_torch_cuda": params["expected_torch_cuda"],
                  "expected_versions": params["expected_versions"], "matmul_max_rel_error": P.MATMUL_TOLERANCE}
    result = R.build_result(checks, metrics, thresholds, environment,
                            ansible_facts={"ai_frameworks": results}, tables=tables(results))
    if not result["failures"]:
        seen = []
        for framework in params["frameworks"]:
            info = results.get(framework) or {}
            gpus = _gpu_devices(info)
            seen.append("%s %s on %s" % (LABELS[framework], info.get("version"),
                                         ("%d GPU(s)" % len(gpus)) if gpus else "the CPU"))
        result["msg"] = "%s (Python %s at %s)." % ("; ".join(seen) or "No framework checked", base.get("python"), python)
    return result


def main():
    argument_spec = dict(
        frameworks=dict(type="list", elements="str", default=["torch"], choices=list(F.FRAMEWORKS)),
        expected_gpu_count=dict(type="int"),
        expected_torch_cuda=dict(type="str"),
        expected_versions=dict(type="dict"),
        matmul_size=dict(type="int", default=1024),
        probe_timeout=dict(type="int", default=600, aliases=["timeout"], deprecated_aliases=[
            dict(name="timeout", version=_args.ALIASES_REMOVED_IN, collection_name=_args.COLLECTION_NAME)]),
    )
    argument_spec.update(_args.common_argspec())
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    frameworks = []
    for name in module.params["frameworks"]:
        if name not in frameworks:
            frameworks.append(name)
    params = dict(module.params, frameworks=frameworks)
    if params["matmul_size"] < 1 or params["matmul_size"] > 16384:
        module.fail_json(msg="matmul_size must be between 1 and 16384, got %d." % params["matmul_size"])
    if params["probe_timeout"] < 1:
        module.fail_json(msg="probe_timeout must be 1 second or more, got %d." % params["probe_timeout"])
    if params["expected_gpu_count"] is not None and params["expected_gpu_count"] < 0:
        module.fail_json(msg="expected_gpu_count must be 0 or more, got %d." % params["expected_gpu_count"])
    python = _args.worker_python(module)
    if module.check_mode:
        result = R.build_result([R.skipped("frameworks", "Check mode: would run the import and matmul probe of %s under %s." % (
            ", ".join(frameworks), python))], {}, {}, {"interpreter": python})
        module.exit_json(**result)

    inventory = gpu_inventory(params["binding_search_paths"])
    results, errors = {}, {}
    with _proc.work_dir("frameworks") as workdir:
        _proc.write_bundle(workdir, [P], WORKER_MAIN)
        for framework in ["python"] + frameworks:
            result, error = run_probe(python, framework, params["matmul_size"], params["probe_timeout"], workdir)
            if error:
                if framework == "python":
                    module.fail_json(msg=error)
                errors[framework] = error
            else:
                results[framework] = result
    R.exit_with(module, evaluate(params, results, errors, inventory, python), params["fail_on_threshold"])


if __name__ == "__main__":
    main()
