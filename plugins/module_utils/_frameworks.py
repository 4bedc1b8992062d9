# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which PyTorch wheel variant a host needs, what the ai_frameworks role installs, and what a
failed pip run means in one sentence.

The data (CUDA version, GPU architectures and pinned versions of each variant) lives in one place,
the role's ``ai_frameworks_matrix`` (roles/ai_frameworks/defaults/main.yml); this file holds the
rules. It imports nothing from Ansible: the filter plugin ``vaultcube.demobox.ai_frameworks_plan``,
the module ``ai_frameworks_facts`` and the unit tests use it directly.

Rules (sources: NVIDIA CUDA toolkit release notes, "CUDA Toolkit and Corresponding Driver
Versions"; NVIDIA CUDA C++ programming guide, "Binary Compatibility" and "PTX Compatibility";
PyTorch RELEASE.md, "PyTorch CUDA Support Matrix"):

* a driver supports CUDA up to the version NVML reports (``nvidia_cuda_driver_version``); when it
  is unknown, the driver branch says it (table below);
* a cubin built for ``sm_XY`` runs on a GPU of the same major X and minor >= Y; PTX built for
  ``compute_XY`` is JIT-compiled by the driver for any GPU of compute capability >= X.Y;
* a variant fits a host when it has code for every GPU and its CUDA is not newer than the
  driver's; ``auto`` takes the first fitting variant in the matrix's ``prefer`` order;
* an explicit variant without code for a GPU, or whose CUDA major is newer than the driver's, is
  refused; a newer CUDA minor of the same major is allowed with a warning (CUDA minor version
  compatibility), because an operator may know better.
"""

from __future__ import absolute_import, division, print_function

import re

# Highest CUDA version of each Linux driver branch (CUDA toolkit release notes, table 3).
DRIVER_BRANCH_CUDA = (
    (590, (13, 1)),
    (580, (13, 0)),
    (575, (12, 9)),
    (570, (12, 8)),
    (565, (12, 7)),
    (560, (12, 6)),
    (555, (12, 5)),
    (550, (12, 4)),
    (545, (12, 3)),
    (535, (12, 2)),
    (530, (12, 1)),
    (525, (12, 0)),
    (520, (11, 8)),
)

FRAMEWORKS = ("torch", "tensorflow", "vllm")


class PlanError(ValueError):
    """A request the role must refuse, with one sentence saying why."""


def version_pair(text):
    """'12.8' -> (12, 8); (12, 8) -> (12, 8); None/'' -> None."""
    if text is None or text == "":
        return None
    if isinstance(text, (tuple, list)):
        return (int(text[0]), int(text[1]))
    match = re.match(r"^\s*(\d+)(?:\.(\d+))?", str(text))
    if not match:
        raise PlanError("'%s' is not a version like 12.8." % (text,))
    return (int(match.group(1)), int(match.group(2) or 0))


def pair_text(pair):
    return None if pair is None else "%d.%d" % pair


def driver_branch(driver_version):
    if not driver_version:
        return None
    match = re.match(r"^\s*(\d+)", str(driver_version))
    return int(match.group(1)) if match else None


def cuda_for_driver(driver_version):
    """Highest CUDA version a driver branch supports, from the table; None when unknown."""
    branch = driver_branch(driver_version)
    if branch is None:
        return None
    for minimum, cuda in DRIVER_BRANCH_CUDA:
        if branch >= minimum:
            return cuda
    return None


def driver_for_cuda(cuda):
    """Lowest driver branch that supports a CUDA version (None when older than the table)."""
    best = None
    for branch, supported in DRIVER_BRANCH_CUDA:
        if supported >= cuda:
            best = branch
    return best


def parse_arch(name):
    """Torch's arch names ('sm_120', 'sm_90a', 'compute_120') -> (kind, (major, minor), specific)."""
    match = re.match(r"^(sm|compute)_(\d+)(a|f)?$", str(name).strip())
    if not match:
        return None
    digits = match.group(2)
    return match.group(1), (int(digits[:-1]), int(digits[-1])), bool(match.group(3))


def runs_on(archs, ptx, capability):
    """True when code for ``archs`` (cubins) or ``ptx`` runs on a GPU of ``capability``.

    archs/ptx are lists of 'X.Y' strings; capability is (major, minor).
    """
    major, minor = capability
    for arch in archs or ():
        amajor, aminor = version_pair(arch)
        if amajor == major and aminor <= minor:
            return True
    for arch in ptx or ():
        if version_pair(arch) <= capability:
            return True
    return False


def torch_arch_list_covers(arch_list, capability):
    """Whether torch.cuda.get_arch_list() has code for a GPU (arch-specific 'a' cubins only match
    their exact GPU)."""
    cubins, ptx = [], []
    for name in arch_list or ():
        parsed = parse_arch(name)
        if parsed is None:
            continue
        kind, pair, specific = parsed
        if kind == "compute":
            ptx.append(pair_text(pair))
        elif specific:
            if pair == tuple(capability):
                return True
        else:
            cubins.append(pair_text(pair))
    return runs_on(cubins, ptx, tuple(capability))


def _gpu_list(facts):
    gpus = []
    for gpu in (facts or {}).get("gpus") or []:
        cap = gpu.get("compute_capability")
        gpus.append({
            "index": gpu.get("index", len(gpus)),
            "name": gpu.get("name") or "GPU %d" % len(gpus),
            "capability": version_pair(cap) if cap else None,
        })
    return gpus


def _gpu_text(gpu):
    return "GPU %s (%s, compute capability %s)" % (gpu["index"], gpu["name"], pair_text(gpu["capability"]))


def _variant_covers(entry, gpu):
    if gpu["capability"] is None:
        return True  # NVML did not say; nothing to refuse on
    return runs_on(entry.get("archs"), entry.get("ptx"), gpu["capability"])


def _known_gpus(gpus):
    return [g for g in gpus if g["capability"] is not None]


def _group_by_need(gpus, variants, order):
    """'NVIDIA GeForce RTX 5090 (12.0) needs cu128 or cu130' for each distinct GPU model."""
    seen = []
    for gpu in gpus:
        key = (gpu["name"], gpu["capability"])
        if key in [s[0] for s in seen]:
            continue
        fits = [name for name in order if name in variants and variants[name].get("cuda")
                and _variant_covers(variants[name], gpu)]
        seen.append((key, fits))
    return seen


def _or_list(names):
    names = list(names)
    if not names:
        return "none"
    if len(names) == 1:
        return names[0]
    return "%s or %s" % (", ".join(names[:-1]), names[-1])


def select_variant(facts, matrix, requested="auto"):
    """Pick the PyTorch wheel variant for a host.

    ``facts``: gpu_facts' ansible_facts (gpus[].compute_capability, nvidia_driver_version,
    nvidia_cuda_driver_version, gpu_count, gpu_facts_reason). ``matrix``: the role's matrix
    (``variants`` and ``prefer``). ``requested``: 'auto' or a variant name.

    Returns {variant, cuda, driver_cuda, reason, warnings}; raises PlanError with one sentence.
    """
    variants = matrix.get("variants") or {}
    order = [name for name in (matrix.get("prefer") or []) if name in variants]
    gpus = _gpu_list(facts)
    driver = (facts or {}).get("nvidia_driver_version")
    driver_cuda = version_pair((facts or {}).get("nvidia_cuda_driver_version")) or cuda_for_driver(driver)
    warnings = []
    requested = "auto" if requested in (None, "") else str(requested)

    def result(name, reason):
        entry = variants[name]
        return {"variant": name, "cuda": entry.get("cuda"), "driver_cuda": pair_text(driver_cuda),
                "driver_version": driver, "reason": reason, "warnings": warnings,
                "gpus": [{"index": g["index"], "name": g["name"], "compute_capability": pair_text(g["capability"])}
                         for g in gpus]}

    if requested != "auto":
        if requested not in variants:
            raise PlanError("The PyTorch variant '%s' is not in ai_frameworks_matrix (known: %s)." % (
                requested, ", ".join(sorted(variants))))
        entry = variants[requested]
        if not entry.get("cuda"):
            if gpus:
                warnings.append("The host has %d NVIDIA GPU(s) but the CPU build of PyTorch was asked for: "
                                "torch will not use them." % len(gpus))
            return result(requested, "asked for explicitly (ai_frameworks_torch_variant).")
        if not gpus:
            warnings.append("No NVIDIA GPU was found (%s); the %s build is installed as asked and runs on "
                            "the CPU until a GPU and driver are present." % (
                                (facts or {}).get("gpu_facts_reason") or "none reported", requested))
            return result(requested, "asked for explicitly (ai_frameworks_torch_variant).")
        for gpu in _known_gpus(gpus):
            if not _variant_covers(entry, gpu):
                fits = [name for name in order if variants[name].get("cuda") and _variant_covers(variants[name], gpu)]
                raise PlanError("The %s build of PyTorch has no code for compute capability %s (%s): use %s." % (
                    requested, pair_text(gpu["capability"]), gpu["name"],
                    _or_list(fits) if fits else "a build that supports it (none in ai_frameworks_matrix does)"))
        variant_cuda = version_pair(entry["cuda"])
        if driver_cuda is not None and variant_cuda > driver_cuda:
            if variant_cuda[0] > driver_cuda[0]:
                raise PlanError("The %s build of PyTorch needs CUDA %s, but driver %s supports CUDA up to %s: "
                                "install driver %s or newer, or choose a CUDA %d build." % (
                                    requested, pair_text(variant_cuda), driver, pair_text(driver_cuda),
                                    driver_for_cuda(variant_cuda) or "a newer", driver_cuda[0]))
            warnings.append("The %s build needs CUDA %s and driver %s supports CUDA up to %s: it relies on CUDA "
                            "minor version compatibility (JIT-compiled PTX and some newer features will not work)." % (
                                requested, pair_text(variant_cuda), driver, pair_text(driver_cuda)))
        return result(requested, "asked for explicitly (ai_frameworks_torch_variant).")

    if not gpus:
        cpu = [name for name, entry in variants.items() if not entry.get("cuda")]
        if not cpu:
            raise PlanError("No NVIDIA GPU was found (%s) and ai_frameworks_matrix has no CPU variant." % (
                (facts or {}).get("gpu_facts_reason") or "none reported"))
        return result(cpu[0], "no NVIDIA GPU was found (%s), so the CPU build." % (
            (facts or {}).get("gpu_facts_reason") or "none reported"))

    known = _known_gpus(gpus)
    covering = [name for name in order if variants[name].get("cuda")
                and all(_variant_covers(variants[name], g) for g in known)]
    if not covering:
        needs = _group_by_need(known, variants, order)
        orphans = [key for key, fits in needs if not fits]
        if orphans:
            name, cap = orphans[0]
            raise PlanError("No PyTorch build in ai_frameworks_matrix has code for compute capability %s (%s)." % (
                pair_text(cap), name))
        raise PlanError("No single PyTorch build in ai_frameworks_matrix has code for every GPU here: %s." % "; ".join(
            "%s (%s) needs %s" % (key[0], pair_text(key[1]), _or_list(fits)) for key, fits in needs))
    if driver_cuda is None:
        warnings.append("The driver did not report its CUDA version; %s was chosen from the GPUs alone." % covering[0])
        return result(covering[0], "it has code for every GPU here (the driver's CUDA version is unknown).")
    fitting = [name for name in covering if version_pair(variants[name]["cuda"]) <= driver_cuda]
    if not fitting:
        lowest = min(version_pair(variants[name]["cuda"]) for name in covering)
        models = sorted(set("%s, compute capability %s" % (g["name"], pair_text(g["capability"])) for g in known))
        raise PlanError("The GPUs here (%s) need a PyTorch build for CUDA %s or newer (%s), but driver %s supports "
                        "CUDA up to %s: install driver %s or newer." % (
                            "; ".join(models), pair_text(lowest), _or_list(covering), driver, pair_text(driver_cuda),
                            driver_for_cuda(lowest) or "a newer one"))
    chosen = fitting[0]
    return result(chosen, "the first variant in the preferred order (%s) with code for every GPU here and a CUDA "
                          "(%s) the driver supports (up to %s)." % (
                              ", ".join(order), variants[chosen]["cuda"], pair_text(driver_cuda)))


def _tensorflow_native(matrix, gpus):
    """GPUs the official TensorFlow build has no code for (cubin, or PTX of the same generation)."""
    archs = matrix.get("tensorflow_archs") or []
    ptx = matrix.get("tensorflow_ptx") or []
    missing = []
    for gpu in _known_gpus(gpus):
        major = gpu["capability"][0]
        same_generation_ptx = [p for p in ptx if version_pair(p)[0] == major]
        if not runs_on(archs, same_generation_ptx, gpu["capability"]):
            missing.append(gpu)
    return missing


TENSORFLOW_BLACKWELL_NOTE = (
    "no official TensorFlow build carries code for compute capability %s (sm_%s); use NVIDIA's NGC TensorFlow "
    "container (nvcr.io/nvidia/tensorflow), which NVIDIA builds for current GPUs, to run TensorFlow there")


def tensorflow_note(gpus):
    """The sentence the role and the verify output give when TensorFlow cannot use a GPU natively."""
    caps = sorted(set(pair_text(g["capability"]) for g in gpus if g["capability"] is not None))
    if not caps:
        return None
    return TENSORFLOW_BLACKWELL_NOTE % (", ".join(caps), ", sm_".join(c.replace(".", "") for c in caps))


def pip_specs(packages):
    specs = []
    for name in sorted(packages or {}):
        version = packages[name]
        if version in (None, ""):
            continue
        specs.append("%s==%s" % (name, version))
    return specs


def plan(facts, matrix, requested="auto", torch=True, tensorflow=None, vllm=None, jupyter=False):
    """Everything the role installs on this host: the variant, the frameworks, the pip specs.

    tensorflow/vllm: True, False or None (decide: TensorFlow off where the official build has no
    code for a GPU, e.g. Blackwell; vLLM on when the variant pins it and torch is installed).
    Raises PlanError with one sentence.
    """
    selection = select_variant(facts, matrix, requested)
    name = selection["variant"]
    entry = matrix["variants"][name]
    gpus = _gpu_list(facts)
    notes = list(selection["warnings"])
    frameworks = []

    if torch:
        if not pip_specs(entry.get("torch")):
            raise PlanError("ai_frameworks_matrix pins no torch packages for the %s variant." % name)
        frameworks.append("torch")

    no_tf_code = _tensorflow_native(matrix, gpus) if entry.get("cuda") else []
    if tensorflow is None:
        install_tf = not no_tf_code and bool(pip_specs(entry.get("tensorflow")))
        if no_tf_code:
            notes.append("TensorFlow is off by default here: %s." % tensorflow_note(no_tf_code))
    else:
        install_tf = bool(tensorflow)
        if install_tf and no_tf_code:
            notes.append("TensorFlow is installed as asked, but %s." % tensorflow_note(no_tf_code))
    if install_tf:
        if not pip_specs(entry.get("tensorflow")):
            raise PlanError("TensorFlow was asked for, but ai_frameworks_matrix pins no tensorflow package for the "
                            "%s variant." % name)
        frameworks.append("tensorflow")

    vllm_specs = pip_specs(entry.get("vllm"))
    if vllm is None:
        install_vllm = bool(vllm_specs) and bool(torch)
    else:
        install_vllm = bool(vllm)
    if install_vllm:
        if not torch:
            raise PlanError("vLLM was asked for without torch (ai_frameworks_torch: false); vLLM needs the torch it "
                            "was built against.")
        if not vllm_specs:
            raise PlanError("vLLM was asked for, but ai_frameworks_matrix pins no vllm for the %s variant (its wheels "
                            "are built against one torch and CUDA): choose a variant that pins it (%s)." % (
                                name, _or_list(sorted(v for v, e in matrix["variants"].items() if pip_specs(e.get("vllm"))))))
        pinned_torch = (entry.get("torch") or {}).get("torch")
        wanted = (entry.get("vllm_torch") or "").strip()
        if wanted and pinned_torch and base_version(pinned_torch) != base_version(wanted):
            raise PlanError("vLLM %s was built against torch %s, but the %s variant pins torch %s: fix "
                            "ai_frameworks_matrix." % ((entry.get("vllm") or {}).get("vllm"), wanted, name, pinned_torch))
        frameworks.append("vllm")

    packages = pip_specs(matrix.get("common"))
    for framework in frameworks:
        packages.extend(pip_specs(entry.get(framework)))
    if jupyter:
        packages.extend(pip_specs(matrix.get("jupyter")))
    torch_pin = (entry.get("torch") or {}).get("torch") if torch else None
    return {
        "variant": name,
        "cuda": entry.get("cuda"),
        "index_url": entry.get("index_url"),
        "reason": selection["reason"],
        "driver_version": selection["driver_version"],
        "driver_cuda": selection["driver_cuda"],
        "gpus": selection["gpus"],
        "frameworks": frameworks,
        "bootstrap": pip_specs(matrix.get("common")),
        "packages": _dedupe(packages),
        "expected_versions": _expected_versions(entry, frameworks),
        "torch": torch_pin,
        "notes": notes,
    }


def _expected_versions(entry, frameworks):
    versions = {}
    for framework in frameworks:
        packages = entry.get(framework) or {}
        for name, version in packages.items():
            key = name.split("[", 1)[0]
            if key in ("torch", "vllm") or key.startswith("tensorflow"):
                if version not in (None, ""):
                    versions["tensorflow" if key.startswith("tensorflow") else key] = str(version)
    return versions


def _dedupe(items):
    out = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


def base_version(version):
    """'2.11.0+cu130' -> '2.11.0'."""
    return str(version).split("+", 1)[0].strip()


def versions_match(installed, expected):
    """An expected version without a local label (+cu130) matches any build of that version."""
    if installed is None or expected is None:
        return False
    installed, expected = str(installed).strip(), str(expected).strip()
    if "+" in expected:
        return installed == expected
    return base_version(installed) == expected


_NOT_FOUND = re.compile(r"No matching distribution found for ([^\s;\\]+)")
_NO_VERSION = re.compile(r"Could not find a version that satisfies the requirement ([^\s;\\]+)")
_CONFLICT = re.compile(r"Cannot install (.+?) because these package versions have conflicting dependencies")
_NO_DISTRIBUTION = re.compile(r"no matching distributions available for your environment:\s*\n((?:[ \t]+\S+\n?)+)")
_CAUSED = re.compile(r"The conflict is caused by:[ \t]*\n((?:[ \t]+\S.*\n?)+)")


def pip_failure(output, source, python=None):
    """One sentence for a failed pip install/download, naming the package and the source tried."""
    text = output or ""
    where = " for Python %s" % python if python else ""
    match = _NOT_FOUND.search(text) or _NO_VERSION.search(text)
    if match:
        package = match.group(1).rstrip(".")
        return "%s could not be found in %s%s." % (package, source, where)
    # pip 24+ reports a pin with no candidate under a constraint (pip.conf) as a conflict, then
    # names the package that has no distribution at all.
    missing = _NO_DISTRIBUTION.search(text)
    if missing:
        names = [n.strip() for n in missing.group(1).splitlines() if n.strip()]
        requested = []
        for name in names:
            pin = re.search(r"The user requested (%s[^\s]*)" % re.escape(name), text)
            requested.append(pin.group(1) if pin else name)
        return "%s could not be found in %s%s." % (" and ".join(requested), source, where)
    if _CONFLICT.search(text) or "ResolutionImpossible" in text:
        caused = _CAUSED.search(text)
        detail = ""
        if caused:
            lines = [line.strip() for line in caused.group(1).splitlines() if line.strip()]
            detail = ": " + "; ".join(lines[:4])
        return "The pinned versions conflict with each other in %s%s%s." % (source, where, detail)
    if "No space left on device" in text:
        return "pip ran out of disk space while installing from %s." % source
    if re.search(r"(Could not fetch URL|NewConnectionError|Max retries exceeded|Temporary failure in name resolution)",
                 text):
        return "pip could not reach %s%s." % (source, where)
    if "THESE PACKAGES DO NOT MATCH THE HASHES" in text:
        return "A package from %s does not match its expected hash." % source
    errors = [line.strip() for line in text.splitlines() if line.strip().startswith("ERROR:")]
    last = errors[-1][len("ERROR:"):].strip() if errors else (text.strip().splitlines() or ["no output"])[-1].strip()
    return "pip failed with packages from %s%s: %s" % (source, where, last.rstrip(".") + ".")


def source_text(mode, wheelhouse=None, index_url=None, torch_index_url=None):
    """How the role names the place it installs from, for messages."""
    if mode == "wheelhouse":
        return "the wheelhouse %s (pip --no-index --find-links)" % wheelhouse
    places = [torch_index_url, index_url or "pip's configured index (PyPI by default)"]
    return " and ".join(p for p in places if p)
