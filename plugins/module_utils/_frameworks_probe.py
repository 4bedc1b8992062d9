# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The probe ai_frameworks_facts runs in a child process under the AI venv's python.

One framework per process (``python worker_main.py torch 1024``): it imports the framework,
reports its version, the CUDA it was built for and the devices it sees, and runs a small fp32
matmul on every GPU it sees (on the CPU when it sees none), checked against a float64 reference.
The result is one JSON line after RESULT_MARKER on stdout. A framework that does not import is a
result (``imported: false`` with the error), not a crash.

Frameworks are imported inside functions, so this file imports cleanly where they are missing
(ansible-test's import sanity test, the module's own process). Nothing here imports Ansible.
"""

from __future__ import absolute_import, division, print_function

import json
import math
import os
import platform
import sys
import time
import traceback

RESULT_MARKER = "VAULTCUBE_FRAMEWORK_PROBE "
# fp32 with TF32 off, K = size: the relative error against float64 stays near 1e-6; a GPU that
# computes garbage (or no kernel at all) is far above this.
MATMUL_TOLERANCE = 1e-3


def _dist_version(name):
    try:
        from importlib import metadata  # pylint: disable=import-outside-toplevel
    except ImportError:  # Python < 3.8
        return None
    try:
        return metadata.version(name)
    except Exception:  # pylint: disable=broad-except
        return None


def _error_text(exc):
    text = "%s: %s" % (type(exc).__name__, exc)
    return text.strip().splitlines()[0][:400] if text.strip() else type(exc).__name__


def probe_python(_size=None):
    return {
        "imported": True,
        "python": platform.python_version(),
        "executable": sys.executable,
        "prefix": sys.prefix,
        "numpy": _dist_version("numpy"),
        "nvidia_ml_py": _dist_version("nvidia-ml-py"),
        "packages": {name: _dist_version(name) for name in (
            "torch", "torchvision", "torchaudio", "tensorflow", "tensorflow-cpu", "vllm", "ipykernel")},
    }


def _torch_matmul(torch, device, size):
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(size, size, generator=gen, dtype=torch.float32)
    b = torch.randn(size, size, generator=gen, dtype=torch.float32)
    reference = a.double() @ b.double()
    entry = {"device": str(device), "size": size}
    try:
        da, db = a.to(device), b.to(device)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.time()
        product = da @ db
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        entry["ms"] = round((time.time() - start) * 1000.0, 3)
        error = ((product.cpu().double() - reference).abs().max() / reference.abs().max()).item()
        entry["max_rel_error"] = error
        entry["ok"] = bool(not math.isnan(error) and error < MATMUL_TOLERANCE)
    except Exception as exc:  # pylint: disable=broad-except
        entry["ok"] = False
        entry["error"] = _error_text(exc)
    return entry


def probe_torch(size):
    try:
        import torch  # pylint: disable=import-outside-toplevel
    except Exception as exc:  # pylint: disable=broad-except
        return {"imported": False, "error": _error_text(exc)}
    info = {
        "imported": True,
        "version": torch.__version__,
        "cuda": getattr(torch.version, "cuda", None),
        "cudnn": None,
        "cuda_available": False,
        "arch_list": [],
        "devices": [],
        "matmul": [],
    }
    try:
        info["cuda_available"] = bool(torch.cuda.is_available())
    except Exception as exc:  # pylint: disable=broad-except
        info["cuda_error"] = _error_text(exc)
    count = torch.cuda.device_count() if info["cuda_available"] else 0
    if info["cuda_available"]:
        try:
            info["cudnn"] = torch.backends.cudnn.version()
        except Exception:  # pylint: disable=broad-except
            pass
        info["arch_list"] = list(torch.cuda.get_arch_list())
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    for index in range(count):
        props = torch.cuda.get_device_properties(index)
        info["devices"].append({
            "index": index,
            "type": "cuda",
            "name": props.name,
            "compute_capability": "%d.%d" % (props.major, props.minor),
            "memory_total_mib": int(props.total_memory // (1024 * 1024)),
        })
    devices = [torch.device("cuda", i) for i in range(count)] or [torch.device("cpu")]
    if not count:
        info["devices"].append({"index": None, "type": "cpu", "name": platform.processor() or platform.machine(),
                                "threads": torch.get_num_threads()})
    for device in devices:
        info["matmul"].append(_torch_matmul(torch, device, size))
    return info


def probe_tensorflow(size):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        import tensorflow as tf  # pylint: disable=import-outside-toplevel
    except Exception as exc:  # pylint: disable=broad-except
        return {"imported": False, "error": _error_text(exc)}
    build = {}
    try:
        build = dict(tf.sysconfig.get_build_info())
    except Exception:  # pylint: disable=broad-except
        pass
    info = {
        "imported": True,
        "version": tf.__version__,
        "cuda": build.get("cuda_version") if build.get("is_cuda_build") else None,
        "cudnn": build.get("cudnn_version") if build.get("is_cuda_build") else None,
        "cuda_build": bool(build.get("is_cuda_build")),
        "devices": [],
        "matmul": [],
    }
    gpus = tf.config.list_physical_devices("GPU")
    for gpu in gpus:
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except Exception:  # pylint: disable=broad-except
            pass
    for index, gpu in enumerate(gpus):
        details = {}
        try:
            details = tf.config.experimental.get_device_details(gpu)
        except Exception:  # pylint: disable=broad-except
            pass
        cap = details.get("compute_capability")
        info["devices"].append({"index": index, "type": "cuda", "name": details.get("device_name", gpu.name),
                                "compute_capability": ("%d.%d" % tuple(cap)) if cap else None})
    if not gpus:
        info["devices"].append({"index": None, "type": "cpu", "name": platform.processor() or platform.machine()})
    try:
        tf.config.experimental.enable_tensor_float_32_execution(False)
    except Exception:  # pylint: disable=broad-except
        pass
    with tf.device("/CPU:0"):
        a = tf.random.stateless_normal([size, size], seed=[0, 1], dtype=tf.float32)
        b = tf.random.stateless_normal([size, size], seed=[2, 3], dtype=tf.float32)
        reference = tf.linalg.matmul(tf.cast(a, tf.float64), tf.cast(b, tf.float64))
        scale = float(tf.reduce_max(tf.abs(reference)))
    names = ["/GPU:%d" % i for i in range(len(gpus))] or ["/CPU:0"]
    for name in names:
        entry = {"device": name, "size": size}
        try:
            start = time.time()
            with tf.device(name):
                product = tf.linalg.matmul(a, b)
            with tf.device("/CPU:0"):
                error = float(tf.reduce_max(tf.abs(tf.cast(product, tf.float64) - reference))) / scale
            entry["ms"] = round((time.time() - start) * 1000.0, 3)
            entry["max_rel_error"] = error
            entry["ok"] = bool(not math.isnan(error) and error < MATMUL_TOLERANCE)
        except Exception as exc:  # pylint: disable=broad-except
            entry["ok"] = False
            entry["error"] = _error_text(exc)
        info["matmul"].append(entry)
    return info


def _pinned(requirements, name):
    """The version a requirement list pins with ==, e.g. 'torch==2.11.0' -> '2.11.0'."""
    for requirement in requirements or ():
        text = requirement.split(";", 1)[0].replace(" ", "")
        if text.lower().startswith(name + "==") and "extra" not in requirement.split(";", 1)[-1]:
            return text.split("==", 1)[1]
    return None


def probe_vllm(_size=None):
    try:
        import vllm  # pylint: disable=import-outside-toplevel
    except Exception as exc:  # pylint: disable=broad-except
        return {"imported": False, "error": _error_text(exc)}
    requirements = []
    try:
        from importlib import metadata  # pylint: disable=import-outside-toplevel
        requirements = metadata.requires("vllm") or []
    except Exception:  # pylint: disable=broad-except
        pass
    info = {
        "imported": True,
        "version": getattr(vllm, "__version__", None) or _dist_version("vllm"),
        "requires_torch": _pinned(requirements, "torch"),
        "torch": _dist_version("torch"),
        "devices": [],
    }
    try:
        from vllm.platforms import current_platform  # pylint: disable=import-outside-toplevel
        info["platform"] = str(getattr(current_platform, "device_name", None) or getattr(current_platform, "device_type", ""))
    except Exception as exc:  # pylint: disable=broad-except
        info["platform_error"] = _error_text(exc)
    try:
        import torch  # pylint: disable=import-outside-toplevel
        info["cuda"] = getattr(torch.version, "cuda", None)
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        info["devices"] = [{"index": i, "type": "cuda", "name": torch.cuda.get_device_name(i)} for i in range(count)]
    except Exception:  # pylint: disable=broad-except
        pass
    return info


PROBES = {
    "python": probe_python,
    "torch": probe_torch,
    "tensorflow": probe_tensorflow,
    "vllm": probe_vllm,
}


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    name = argv[0] if argv else "python"
    size = int(argv[1]) if len(argv) > 1 else 1024
    if name not in PROBES:
        sys.stderr.write("unknown framework %r\n" % name)
        return 2
    started = time.time()
    try:
        result = PROBES[name](size)
    except Exception as exc:  # pylint: disable=broad-except
        result = {"imported": None, "error": _error_text(exc), "traceback": traceback.format_exc()[-2000:]}
    result["framework"] = name
    result["elapsed_s"] = round(time.time() - started, 3)
    sys.stdout.write("\n" + RESULT_MARKER + json.dumps(result, default=str) + "\n")
    sys.stdout.flush()
    return 0


def parse_output(text):
    """The probe's result from its stdout, or None."""
    for line in reversed((text or "").splitlines()):
        if line.startswith(RESULT_MARKER):
            try:
                return json.loads(line[len(RESULT_MARKER):])
            except ValueError:
                return None
    return None
