# -*- coding: utf-8 -*-
"""Stand-ins for torch and tensorflow, replacing the frameworks at the boundary for unit tests.

They implement only what plugins/module_utils/_frameworks_probe.py calls, with the same names and
shapes, on small pure-Python matrices. A test describes the GPUs it wants the framework to see;
``wrong=True`` makes a device compute a wrong product, ``broken`` makes it raise (as a GPU without
a kernel for its architecture does).
"""

import random
import types


class Matrix:
    """A dense matrix of floats (rows of lists)."""

    def __init__(self, rows, device="cpu", dtype="float32", owner=None):
        self.rows = [list(r) for r in rows]
        self.device = device
        self.dtype = dtype
        self.owner = owner

    # -- torch-like
    def double(self):
        return Matrix(self.rows, self.device, "float64", self.owner)

    def to(self, device):
        dev = device if isinstance(device, str) else str(device)
        if self.owner is not None:
            self.owner.check(dev)
        return Matrix(self.rows, dev, self.dtype, self.owner)

    def cpu(self):
        return Matrix(self.rows, "cpu", self.dtype, self.owner)

    def __matmul__(self, other):
        n, k, m = len(self.rows), len(other.rows), len(other.rows[0])
        out = [[sum(self.rows[i][t] * other.rows[t][j] for t in range(k)) for j in range(m)] for i in range(n)]
        if self.owner is not None and self.device in self.owner.wrong:
            out[0][0] += 1000.0
        return Matrix(out, self.device, self.dtype, self.owner)

    def __sub__(self, other):
        return Matrix([[a - b for a, b in zip(r1, r2)] for r1, r2 in zip(self.rows, other.rows)], self.device,
                      self.dtype, self.owner)

    def abs(self):
        return Matrix([[abs(v) for v in r] for r in self.rows], self.device, self.dtype, self.owner)

    def max(self):
        return Scalar(max(max(r) for r in self.rows))


class Scalar:
    def __init__(self, value):
        self.value = value

    def __truediv__(self, other):
        return Scalar(self.value / other.value)

    def item(self):
        return self.value


class Device:
    def __init__(self, kind, index=None):
        self.type = kind
        self.index = index

    def __str__(self):
        return self.type if self.index is None else "%s:%d" % (self.type, self.index)


class _Owner:
    def __init__(self, wrong=(), broken=()):
        self.wrong = set(wrong)
        self.broken = set(broken)

    def check(self, device):
        if device in self.broken:
            raise RuntimeError("CUDA error: no kernel image is available for execution on the device")


def fake_torch(gpus=(), version="2.11.0+cu130", cuda="13.0",
               arch_list=("sm_75", "sm_80", "sm_86", "sm_90", "sm_100", "sm_120", "compute_120"),
               wrong=(), broken=(), cuda_error=None):
    """A torch module. gpus: list of (name, (major, minor), total_mib)."""
    owner = _Owner(wrong, broken)
    torch = types.ModuleType("torch")
    torch.__version__ = version
    torch.version = types.SimpleNamespace(cuda=cuda)
    torch.float32 = "float32"

    def is_available():
        if cuda_error:
            raise RuntimeError(cuda_error)
        return bool(gpus)

    def props(index):
        name, cap, mib = gpus[index]
        return types.SimpleNamespace(name=name, major=cap[0], minor=cap[1], total_memory=mib * 1024 * 1024)

    torch.cuda = types.SimpleNamespace(
        is_available=is_available,
        device_count=lambda: len(gpus),
        get_device_properties=props,
        get_device_name=lambda i: gpus[i][0],
        get_arch_list=lambda: list(arch_list),
        synchronize=lambda device=None: None,
    )
    torch.backends = types.SimpleNamespace(
        cuda=types.SimpleNamespace(matmul=types.SimpleNamespace(allow_tf32=True)),
        cudnn=types.SimpleNamespace(version=lambda: 91002, allow_tf32=True),
    )

    class Generator:
        def manual_seed(self, seed):
            self.rng = random.Random(seed)
            return self

    def randn(rows, cols, generator=None, dtype=None):
        rng = generator.rng if generator is not None else random.Random(0)
        return Matrix([[rng.gauss(0, 1) for dummy_col in range(cols)] for dummy_row in range(rows)], owner=owner)

    torch.Generator = Generator
    torch.randn = randn
    torch.device = Device
    torch.get_num_threads = lambda: 16
    return torch


class _TfConfig:
    def __init__(self, gpus):
        self.gpus = gpus
        self.experimental = types.SimpleNamespace(
            set_memory_growth=lambda gpu, flag: None,
            get_device_details=lambda gpu: {"device_name": gpus[gpu.index][0],
                                            "compute_capability": gpus[gpu.index][1]},
            enable_tensor_float_32_execution=lambda flag: None,
        )

    def list_physical_devices(self, kind):
        return [types.SimpleNamespace(name="/physical_device:GPU:%d" % i, index=i) for i in range(len(self.gpus))]


def fake_tensorflow(gpus=(), version="2.21.0", cuda="12.5.1", wrong=(), broken=()):
    """A tensorflow module. gpus: list of (name, (major, minor))."""
    owner = _Owner(wrong=wrong, broken=broken)
    tf = types.ModuleType("tensorflow")
    tf.__version__ = version
    tf.float32, tf.float64 = "float32", "float64"
    build = {"is_cuda_build": bool(cuda), "cuda_version": cuda, "cudnn_version": "9" if cuda else None}
    tf.sysconfig = types.SimpleNamespace(get_build_info=lambda: build)
    tf.config = _TfConfig(list(gpus))
    current = {"device": "/CPU:0"}

    class _Scope:
        def __init__(self, name):
            self.name = name

        def __enter__(self):
            self.before = current["device"]
            current["device"] = self.name

        def __exit__(self, *exc):
            current["device"] = self.before

    def stateless_normal(shape, seed, dtype):
        rng = random.Random(str(list(seed)))
        return Matrix([[rng.gauss(0, 1) for dummy_col in range(shape[1])] for dummy_row in range(shape[0])], "/CPU:0", dtype, owner)

    def matmul(a, b):
        owner.check(current["device"])
        placed = Matrix(a.rows, current["device"], a.dtype, owner)
        return placed @ b

    tf.device = _Scope
    tf.random = types.SimpleNamespace(stateless_normal=stateless_normal)
    tf.linalg = types.SimpleNamespace(matmul=matmul)
    tf.cast = lambda x, dtype: Matrix(x.rows, x.device, dtype, owner)
    tf.abs = lambda x: x.abs()
    tf.reduce_max = lambda x: x.max().value
    return tf
