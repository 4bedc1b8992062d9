# -*- coding: utf-8 -*-
"""The PyTorch variant selection and install plan, against the matrix the role ships.

The expected answers come from hand-written hardware tables below (which GPU generation each
PyTorch 2.11 variant has code for, which CUDA each driver branch supports), not from the code
under test, so the exhaustive sweep can disagree with it.
"""
import copy
import itertools
import os

import pytest
import yaml

from ansible_collections.vaultcube.demobox.plugins.module_utils import _frameworks as F

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
DEFAULTS = yaml.safe_load(open(os.path.join(ROOT, "roles", "ai_frameworks", "defaults", "main.yml")))
MATRIX = DEFAULTS["ai_frameworks_matrix"]

# --- Hardware truth, by hand -----------------------------------------------------------------
# Highest CUDA of each driver branch (NVIDIA CUDA toolkit release notes).
DRIVER_CUDA = {"525.60.13": (12, 0), "535.261.03": (12, 2), "550.163.01": (12, 4), "560.35.05": (12, 6),
               "565.57.01": (12, 7), "570.124.06": (12, 8), "575.64.03": (12, 9), "580.95.05": (13, 0),
               "580.159.04": (13, 0), "590.44.01": (13, 1)}
VARIANT_CUDA = {"cu130": (13, 0), "cu128": (12, 8), "cu126": (12, 6), "cu124": (12, 4)}
# Which variants carry code a GPU of that compute capability can run (PyTorch 2.11 support matrix:
# 12.6 Maxwell-Hopper; 12.8 and 13.0 Turing-Blackwell, 13.0 also compute_120 PTX; cu124 = 2.6.0).
RUNS_ON = {
    "3.5": [], "3.7": [],
    "5.0": ["cu126", "cu124"], "5.2": ["cu126", "cu124"], "6.0": ["cu126", "cu124"], "6.1": ["cu126", "cu124"],
    "7.0": ["cu126", "cu124"], "7.2": ["cu126", "cu124"],
    "7.5": ["cu130", "cu128", "cu126", "cu124"], "8.0": ["cu130", "cu128", "cu126", "cu124"],
    "8.6": ["cu130", "cu128", "cu126", "cu124"], "8.7": ["cu130", "cu128", "cu126", "cu124"],
    "8.9": ["cu130", "cu128", "cu126", "cu124"], "9.0": ["cu130", "cu128", "cu126", "cu124"],
    "10.0": ["cu130", "cu128"], "10.3": ["cu130", "cu128"],
    "11.0": [],                                  # Thor: no x86 wheel has it
    "12.0": ["cu130", "cu128"], "12.1": ["cu130", "cu128"],
}
PREFER = ["cu130", "cu128", "cu126", "cu124"]
GPU_NAMES = {"3.5": "Tesla K40", "3.7": "Tesla K80", "5.0": "Quadro M1200", "5.2": "Tesla M60", "6.0": "Tesla P100",
             "6.1": "GeForce GTX 1080", "7.0": "Tesla V100", "7.2": "Jetson Xavier", "7.5": "Tesla T4",
             "8.0": "A100", "8.6": "GeForce RTX 3090", "8.7": "Jetson Orin", "8.9": "L40S", "9.0": "NVIDIA H200",
             "10.0": "NVIDIA B200", "10.3": "NVIDIA B300", "11.0": "Jetson Thor",
             "12.0": "NVIDIA GeForce RTX 5090", "12.1": "NVIDIA GB10"}


def facts(caps, driver="580.159.04", cuda="auto"):
    """gpu_facts' ansible_facts for GPUs of the given compute capabilities."""
    if cuda == "auto":
        cuda = F.pair_text(DRIVER_CUDA[driver]) if driver in DRIVER_CUDA else None
    gpus = [{"index": i, "name": GPU_NAMES.get(c, "GPU"), "compute_capability": c} for i, c in enumerate(caps)]
    return {"gpu_count": len(gpus), "gpus": gpus, "nvidia_driver_version": driver if gpus else None,
            "nvidia_cuda_driver_version": cuda if gpus else None,
            "gpu_facts_reason": None if gpus else "the NVML library (libnvidia-ml.so.1) was not found"}


def oracle(caps, driver):
    """The expected variant from the tables above, or None when none fits."""
    fits = [v for v in PREFER if all(v in RUNS_ON[c] for c in caps)]
    fits = [v for v in fits if VARIANT_CUDA[v] <= DRIVER_CUDA[driver]]
    return fits[0] if fits else None


# --- The two answers the product is built on -------------------------------------------------
def test_driver_580_gets_cu130_for_the_demo_box_and_for_an_h200():
    for caps in (["12.0"] * 4, ["9.0"], ["9.0", "9.0"]):
        chosen = F.select_variant(facts(caps, "580.159.04"), MATRIX)
        assert chosen["variant"] == "cu130" and chosen["cuda"] == "13.0" and chosen["warnings"] == []


def test_cu126_is_refused_for_an_rtx_5090_with_one_sentence():
    with pytest.raises(F.PlanError) as exc:
        F.select_variant(facts(["12.0"] * 4, "580.159.04"), MATRIX, "cu126")
    assert str(exc.value) == ("The cu126 build of PyTorch has no code for compute capability 12.0 "
                              "(NVIDIA GeForce RTX 5090): use cu130 or cu128.")


# --- Exhaustive: driver branch x its CUDA (reported or not) x compute capability x GPU count -----
@pytest.mark.parametrize("driver,cap,count,reported", list(itertools.product(
    sorted(DRIVER_CUDA), sorted(RUNS_ON), (1, 4), (True, False))))
def test_auto_matches_the_hardware_tables(driver, cap, count, reported):
    host = facts([cap] * count, driver, "auto" if reported else None)
    expected = oracle([cap], driver)
    if expected is None:
        with pytest.raises(F.PlanError) as exc:
            F.select_variant(host, MATRIX)
        message = str(exc.value)
        assert message.endswith(".") and "\n" not in message and message.count(": ") <= 1
        assert cap in message and GPU_NAMES[cap] in message
        if RUNS_ON[cap]:  # code exists, the driver is too old: say which driver
            assert driver in message and "install driver" in message
    else:
        chosen = F.select_variant(host, MATRIX)
        assert chosen["variant"] == expected, (driver, cap, chosen)
        assert chosen["driver_cuda"] == F.pair_text(DRIVER_CUDA[driver])


EXPLICIT_DRIVERS = ["550.163.01", "570.124.06", "580.159.04"]


@pytest.mark.parametrize("variant,cap,driver", list(itertools.product(PREFER + ["cpu"], sorted(RUNS_ON), EXPLICIT_DRIVERS)))
def test_explicit_variants_are_refused_exactly_when_they_cannot_work(variant, cap, driver):
    host = facts([cap], driver)
    if variant == "cpu":
        chosen = F.select_variant(host, MATRIX, "cpu")
        assert chosen["variant"] == "cpu" and "will not use them" in chosen["warnings"][0]
        return
    no_code = variant not in RUNS_ON[cap]
    newer_major = VARIANT_CUDA[variant][0] > DRIVER_CUDA[driver][0]
    newer_minor = not newer_major and VARIANT_CUDA[variant] > DRIVER_CUDA[driver]
    if no_code or newer_major:
        with pytest.raises(F.PlanError) as exc:
            F.select_variant(host, MATRIX, variant)
        message = str(exc.value)
        assert message.startswith("The %s build of PyTorch " % variant) and message.endswith(".")
        assert ("has no code for compute capability %s" % cap in message) if no_code else ("driver %s" % driver in message)
    else:
        chosen = F.select_variant(host, MATRIX, variant)
        assert chosen["variant"] == variant
        assert bool(chosen["warnings"]) == newer_minor
        if newer_minor:
            assert "minor version compatibility" in chosen["warnings"][0]


# --- Named cases ---------------------------------------------------------------------------------
@pytest.mark.parametrize("caps,driver,expected", [
    (["12.0"] * 4, "570.124.06", "cu128"),      # the demo box on a 570 driver
    (["12.0"] * 4, "575.64.03", "cu128"),
    (["12.0"] * 4, "590.44.01", "cu130"),
    (["9.0"], "550.163.01", "cu124"),           # H200 on the spec's 550 driver
    (["9.0"], "560.35.05", "cu126"),
    (["8.6"], "565.57.01", "cu126"),            # 12.7 driver: cu128 is too new
    (["8.9"], "580.95.05", "cu130"),            # Ada runs the sm_86 cubin
    (["7.0"], "580.95.05", "cu126"),            # Volta: dropped from cu128/cu130 in 2.11
    (["6.1"], "580.95.05", "cu126"),            # Pascal runs the sm_60 cubin
    (["12.1"], "580.95.05", "cu130"),           # GB10 runs the sm_120 cubin
    (["12.0", "8.6"], "580.95.05", "cu130"),    # mixed, one variant covers both
    (["10.0", "9.0"], "570.124.06", "cu128"),
])
def test_named_cases(caps, driver, expected):
    assert F.select_variant(facts(caps, driver), MATRIX)["variant"] == expected


def test_the_rtx_5090_on_the_spec_driver_550_says_which_driver_it_needs():
    with pytest.raises(F.PlanError) as exc:
        F.select_variant(facts(["12.0"] * 4, "550.163.01"), MATRIX)
    assert str(exc.value) == (
        "The GPUs here (NVIDIA GeForce RTX 5090, compute capability 12.0) need a PyTorch build for CUDA 12.8 or "
        "newer (cu130 or cu128), but driver 550.163.01 supports CUDA up to 12.4: install driver 570 or newer.")


def test_no_single_variant_for_a_5090_beside_a_v100():
    with pytest.raises(F.PlanError) as exc:
        F.select_variant(facts(["12.0", "7.0"]), MATRIX)
    assert str(exc.value) == ("No single PyTorch build in ai_frameworks_matrix has code for every GPU here: "
                              "NVIDIA GeForce RTX 5090 (12.0) needs cu130 or cu128; Tesla V100 (7.0) needs cu126 or cu124.")


def test_a_kepler_gpu_has_no_build():
    with pytest.raises(F.PlanError) as exc:
        F.select_variant(facts(["3.7"]), MATRIX)
    assert str(exc.value) == "No PyTorch build in ai_frameworks_matrix has code for compute capability 3.7 (Tesla K80)."


def test_no_gpu_gets_the_cpu_build_and_says_why():
    chosen = F.select_variant(facts([]), MATRIX)
    assert chosen["variant"] == "cpu" and chosen["cuda"] is None
    assert "no NVIDIA GPU was found (the NVML library" in chosen["reason"]


def test_an_explicit_gpu_variant_without_gpu_is_allowed_with_a_warning():
    chosen = F.select_variant(facts([]), MATRIX, "cu130")
    assert chosen["variant"] == "cu130" and "runs on the CPU until a GPU and driver are present" in chosen["warnings"][0]


def test_unknown_variant_and_unknown_driver_cuda():
    with pytest.raises(F.PlanError) as exc:
        F.select_variant(facts(["9.0"]), MATRIX, "cu999")
    assert str(exc.value) == "The PyTorch variant 'cu999' is not in ai_frameworks_matrix (known: cpu, cu124, cu126, cu128, cu130)."
    host = facts(["9.0"], "N/A", None)   # neither the CUDA version nor a readable driver branch
    chosen = F.select_variant(host, MATRIX)
    assert chosen["variant"] == "cu130" and "did not report its CUDA version" in chosen["warnings"][0]
    assert F.select_variant(facts(["9.0"], "999.1", None), MATRIX)["driver_cuda"] == "13.1"  # newest row


def test_driver_tables():
    assert F.cuda_for_driver("580.159.04") == (13, 0)
    assert F.cuda_for_driver("570.124.06") == (12, 8)
    assert F.cuda_for_driver("410.48") is None and F.cuda_for_driver(None) is None and F.cuda_for_driver("x") is None
    assert F.driver_for_cuda((12, 8)) == 570 and F.driver_for_cuda((13, 0)) == 580 and F.driver_for_cuda((14, 0)) is None
    assert F.version_pair("12") == (12, 0) and F.version_pair([9, 0]) == (9, 0) and F.version_pair("") is None
    with pytest.raises(F.PlanError):
        F.version_pair("twelve")


@pytest.mark.parametrize("arch_list,cap,covered", [
    (["sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90"], (12, 0), False),   # cu126 on an RTX 5090
    (["sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90"], (8, 9), True),
    (["sm_75", "sm_80", "sm_86", "sm_90", "sm_100", "sm_120", "compute_120"], (12, 1), True),
    (["sm_75", "sm_80", "sm_86", "sm_90", "sm_100", "sm_120"], (9, 0), True),
    (["sm_75", "sm_80", "sm_86", "sm_90", "sm_100", "sm_120"], (7, 0), False),
    (["sm_80", "sm_90a"], (9, 0), True),
    (["sm_80", "sm_90a"], (9, 1), False),     # arch-specific code runs on its own GPU only
    (["compute_90"], (12, 0), True),          # PTX JIT-compiles for newer GPUs
    (["compute_90", "bogus"], (8, 9), False),
])
def test_torch_arch_list_coverage(arch_list, cap, covered):
    assert F.torch_arch_list_covers(arch_list, cap) is covered


# --- The install plan -------------------------------------------------------------------------
def test_plan_for_the_demo_box():
    plan = F.plan(facts(["12.0"] * 4), MATRIX)
    assert plan["variant"] == "cu130" and plan["index_url"] == "https://download.pytorch.org/whl/cu130"
    assert plan["frameworks"] == ["torch", "vllm"]      # TensorFlow off on Blackwell
    assert plan["packages"] == ["numpy==2.4.6", "nvidia-ml-py==13.615.71", "torch==2.11.0+cu130",
                                "torchaudio==2.11.0+cu130", "torchvision==0.26.0+cu130", "vllm==0.25.0"]
    assert plan["expected_versions"] == {"torch": "2.11.0+cu130", "vllm": "0.25.0"}
    assert plan["bootstrap"] == ["numpy==2.4.6", "nvidia-ml-py==13.615.71"]
    note = [n for n in plan["notes"] if "TensorFlow" in n]
    assert note == ["TensorFlow is off by default here: no official TensorFlow build carries code for compute "
                    "capability 12.0 (sm_120); use NVIDIA's NGC TensorFlow container (nvcr.io/nvidia/tensorflow), "
                    "which NVIDIA builds for current GPUs, to run TensorFlow there."]


def test_plan_tensorflow_on_by_default_where_it_has_code_and_on_cpu():
    assert F.plan(facts(["9.0"]), MATRIX)["frameworks"] == ["torch", "tensorflow", "vllm"]
    assert "tensorflow[and-cuda]==2.21.0" in F.plan(facts(["8.6"]), MATRIX)["packages"]
    cpu = F.plan(facts([]), MATRIX)
    assert cpu["frameworks"] == ["torch", "tensorflow"] and "tensorflow-cpu==2.21.0" in cpu["packages"]
    assert cpu["expected_versions"] == {"torch": "2.11.0+cpu", "tensorflow": "2.21.0"}


def test_plan_tensorflow_forced_on_blackwell_keeps_the_note():
    plan = F.plan(facts(["12.0"]), MATRIX, tensorflow=True)
    assert "tensorflow" in plan["frameworks"]
    assert any(n.startswith("TensorFlow is installed as asked, but no official TensorFlow build") for n in plan["notes"])


def test_plan_vllm_rules():
    assert "vllm" not in F.plan(facts(["12.0"], "570.124.06"), MATRIX)["frameworks"]   # cu128 pins none
    with pytest.raises(F.PlanError) as exc:
        F.plan(facts(["12.0"], "570.124.06"), MATRIX, vllm=True)
    assert str(exc.value).startswith("vLLM was asked for, but ai_frameworks_matrix pins no vllm for the cu128 variant")
    assert "choose a variant that pins it (cu130)" in str(exc.value)
    with pytest.raises(F.PlanError) as exc:
        F.plan(facts(["12.0"]), MATRIX, torch=False, vllm=True)
    assert "without torch" in str(exc.value)
    assert F.plan(facts(["12.0"]), MATRIX, torch=False)["frameworks"] == []
    bad = copy.deepcopy(MATRIX)
    bad["variants"]["cu130"]["torch"]["torch"] = "2.12.0+cu130"
    with pytest.raises(F.PlanError) as exc:
        F.plan(facts(["12.0"]), bad)
    assert str(exc.value) == ("vLLM 0.25.0 was built against torch 2.11.0, but the cu130 variant pins torch "
                              "2.12.0+cu130: fix ai_frameworks_matrix.")


def test_plan_jupyter_and_dropped_packages():
    matrix = copy.deepcopy(MATRIX)
    matrix["variants"]["cpu"]["torch"] = {"torch": "2.13.0+cpu", "torchvision": None, "torchaudio": None}
    plan = F.plan(facts([]), matrix, tensorflow=False, jupyter=True)
    assert plan["packages"] == ["numpy==2.4.6", "nvidia-ml-py==13.615.71", "torch==2.13.0+cpu", "ipykernel==7.4.0"]
    matrix["variants"]["cpu"]["torch"] = {"torch": None}
    with pytest.raises(F.PlanError, match="pins no torch packages for the cpu variant"):
        F.plan(facts([]), matrix)
    matrix["variants"]["cpu"]["tensorflow"] = {}
    with pytest.raises(F.PlanError, match="pins no tensorflow package for the cpu variant"):
        F.plan(facts([]), matrix, torch=False, tensorflow=True)
    no_cpu = {"prefer": [], "variants": {"cu130": MATRIX["variants"]["cu130"]}}
    with pytest.raises(F.PlanError, match="has no CPU variant"):
        F.plan(facts([]), no_cpu)


# --- The matrix the role ships is consistent -----------------------------------------------------
def test_shipped_matrix_is_consistent():
    variants = MATRIX["variants"]
    assert MATRIX["prefer"] == PREFER and set(PREFER) <= set(variants)
    for name, entry in variants.items():
        torch = entry["torch"]
        for package in ("torch", "torchvision", "torchaudio"):
            assert torch[package].endswith("+" + name), (name, package)     # the variant's own build
        assert entry["index_url"] == "https://download.pytorch.org/whl/" + name
        if name != "cpu":
            assert F.version_pair(entry["cuda"]) == VARIANT_CUDA[name]
        if entry.get("vllm"):
            assert F.base_version(torch["torch"]) == str(entry["vllm_torch"])
    # vLLM 0.25.0 requires torch==2.11.0, torchvision==0.26.0, torchaudio==2.11.0 (its metadata).
    cu130 = variants["cu130"]
    assert (cu130["vllm"]["vllm"], F.base_version(cu130["torch"]["torchvision"]),
            F.base_version(cu130["torch"]["torchaudio"])) == ("0.25.0", "0.26.0", "2.11.0")
    # every capability the tables list is judged the same way by the matrix's arch lists
    for cap, fits in RUNS_ON.items():
        got = [v for v in PREFER if F.runs_on(variants[v]["archs"], variants[v]["ptx"], F.version_pair(cap))]
        assert got == fits, cap


# --- pip's output in one sentence ------------------------------------------------------------------
NOT_FOUND = """Looking in links: /srv/wheelhouse/cp313-cpu
ERROR: Could not find a version that satisfies the requirement torch==2.13.0+cpu (from versions: none)
ERROR: No matching distribution found for torch==2.13.0+cpu
"""
CONSTRAINED = """ERROR: Cannot install torch==2.13.0+cpu because these package versions have conflicting dependencies.

The conflict is caused by:
    The user requested torch==2.13.0+cpu
    The user requested (constraint) torch<=2.14.1

Additionally, some packages in these conflicts have no matching distributions available for your environment:
    torch

To fix this you could try to:
"""
CONFLICT = """ERROR: Cannot install torch==2.11.0 and vllm==0.25.0 because these package versions have conflicting dependencies.

The conflict is caused by:
    The user requested torch==2.11.0
    vllm 0.25.0 depends on torch==2.10.0

To fix this you could try to:
1. loosen the range
ERROR: ResolutionImpossible: for help visit https://pip.pypa.io/
"""


@pytest.mark.parametrize("output,expected", [
    (NOT_FOUND, "torch==2.13.0+cpu could not be found in the wheelhouse W for Python 3.13."),
    ("ERROR: Could not find a version that satisfies the requirement vllm==0.25.0 (from versions: 0.24.0)\n",
     "vllm==0.25.0 could not be found in the wheelhouse W for Python 3.13."),
    (CONSTRAINED, "torch==2.13.0+cpu could not be found in the wheelhouse W for Python 3.13."),
    (CONFLICT, "The pinned versions conflict with each other in the wheelhouse W for Python 3.13: The user requested "
               "torch==2.11.0; vllm 0.25.0 depends on torch==2.10.0."),
    ("OSError: [Errno 28] No space left on device\n", "pip ran out of disk space while installing from the wheelhouse W."),
    ("WARNING: Retrying ... NewConnectionError(...)\nERROR: Could not install\n",
     "pip could not reach the wheelhouse W for Python 3.13."),
    ("ERROR: THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE.\n",
     "A package from the wheelhouse W does not match its expected hash."),
    ("ERROR: Invalid requirement: 'torch=='\n",
     "pip failed with packages from the wheelhouse W for Python 3.13: Invalid requirement: 'torch=='."),
    ("", "pip failed with packages from the wheelhouse W for Python 3.13: no output."),
])
def test_pip_failure_sentences(output, expected):
    assert F.pip_failure(output, "the wheelhouse W", "3.13") == expected


def test_source_text_and_versions():
    assert F.source_text("wheelhouse", "/srv/w") == "the wheelhouse /srv/w (pip --no-index --find-links)"
    assert F.source_text("index", torch_index_url="https://download.pytorch.org/whl/cu130") == (
        "https://download.pytorch.org/whl/cu130 and pip's configured index (PyPI by default)")
    assert F.versions_match("2.11.0+cu130", "2.11.0") and F.versions_match("2.11.0+cu130", "2.11.0+cu130")
    assert not F.versions_match("2.11.0+cu128", "2.11.0+cu130") and not F.versions_match(None, "1")
    assert F.pip_specs({"b": "1", "a": "2", "c": None}) == ["a==2", "b==1"]
    assert F.tensorflow_note([]) is None
