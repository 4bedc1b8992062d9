"""Used by tests/gpu/hardening.yml: torch.compile of a small function on GPU 0 (Inductor writes a
Triton kernel, Triton compiles it, as vLLM and torch.compile do at run time), and whether this user
may run the C compiler at all, and how many C modules Triton built with it into its cache.
Prints one line: `compile ok <s> s; gcc <PATH's gcc> <runs|refused>, /usr/bin/gcc <runs|refused>,
CC=<$CC, which Triton prefers>; C modules built <n>` or `compile failed: <the error's last line>; gcc ...`; exit 0 or 1. The caller gives each run an empty
TRITON_CACHE_DIR and TORCHINDUCTOR_CACHE_DIR, so it compiles."""
import os
import pathlib
import shutil
import subprocess
import time

import torch


def gcc_state():
    """`gcc <path on PATH> <runs|refused>, /usr/bin/gcc <runs|refused>, CC=<$CC>`: the distribution's
    compiler (the one the role restricts), the one this user's PATH finds first and the one $CC
    names (Triton uses $CC first), which may be others."""
    states = []
    for name in (shutil.which("gcc", mode=os.F_OK) or "gcc", "/usr/bin/gcc"):
        try:
            subprocess.run([name, "--version"], capture_output=True, check=True, timeout=30)
            states.append(f"{name} runs")
        except (OSError, subprocess.SubprocessError) as err:
            states.append(f"{name} refused ({type(err).__name__})")
    return ", ".join(states) + f", CC={os.environ.get('CC', 'unset')}"


def main():
    fn = torch.compile(lambda x: torch.sin(x) * 2.0 + x)
    x = torch.randn(1 << 20, device="cuda")
    start = time.monotonic()
    gcc = gcc_state()
    try:
        y = fn(x)
        torch.cuda.synchronize()
    except Exception as err:  # noqa: BLE001 - the test reports any failure as one line
        lines = [line.strip() for line in str(err).splitlines() if line.strip()] or [type(err).__name__]
        # The cause where one is named (Triton's "Failed to find C compiler"), else the last line.
        cause = next((line for line in lines if "compiler" in line.lower()), lines[-1])
        print(f"compile failed: {type(err).__name__}: {cause[:300]}; gcc {gcc}")
        return 1
    ok = torch.allclose(y, torch.sin(x) * 2.0 + x, atol=1e-5)
    built = len(list(pathlib.Path(os.environ.get("TRITON_CACHE_DIR", "/nonexistent")).rglob("*.so")))
    print(f"compile {'ok' if ok else 'wrong result'} {time.monotonic() - start:.1f} s; gcc {gcc}; C modules built {built}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
