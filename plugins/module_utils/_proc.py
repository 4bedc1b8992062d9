# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run heavy work in child processes and leave nothing behind.

The GPU modules never run torch or vLLM inside the AnsiballZ process. They write a worker script
(shipped in module_utils) to a private temporary directory and start it under a chosen interpreter
(the AI venv's python by default). This file handles that life cycle:

* every child runs in a new session (its own process group), with a marker in its environment
  that all of its descendants inherit;
* a timeout, or SIGTERM/SIGINT to the module (``async`` timeouts, Ctrl-C), terminates the group,
  waits, kills what is left, then sweeps /proc for any process still carrying the marker;
* the direct child gets PR_SET_PDEATHSIG, so even a SIGKILLed module takes its child with it;
* output goes to files, not pipes, so a chatty worker cannot deadlock us; the last lines come back.

Nothing here imports Ansible, so workers may import it too.
"""

from __future__ import absolute_import, division, print_function

import contextlib
import ctypes
import inspect
import os
import shutil
import signal
import sys
import tempfile
import time
import uuid

MARKER_VAR = "VAULTCUBE_RUN_ID"
DEFAULT_AI_PYTHON = "/opt/vaultcube/venv/bin/python"

# Variables that keep NCCL/PyTorch/NVSHMEM away from NVLink multicast. Shared multi-GPU hosts
# (and this project's GPU test machines) require them; they cost nothing elsewhere.
SAFE_MULTI_GPU_ENV = {
    "NCCL_NVLS_ENABLE": "0",
    "TORCH_SYMM_MEM_DISABLE_MULTICAST": "1",
    "NVSHMEM_DISABLE_NVLS": "1",
}


def default_interpreter(ai_python=DEFAULT_AI_PYTHON):
    """The AI venv's python when it exists, else the interpreter running this module."""
    if ai_python and os.access(ai_python, os.X_OK):
        return ai_python
    return sys.executable


def worker_interpreter(path):
    """The interpreter a worker runs under: ``path`` (the ``worker_python`` option) or the default.

    Returns ``(interpreter, None)``, or ``(interpreter, sentence)`` when it cannot run anything. The
    one wording every module uses for a bad ``worker_python``.
    """
    python = path or default_interpreter()
    if os.path.isfile(python) and os.access(python, os.X_OK):
        return python, None
    return python, ("worker_python %s is not an executable file: set worker_python to the AI venv's python "
                    "(%s, made by the ai_frameworks role) or to another interpreter that has what the worker "
                    "imports." % (python, DEFAULT_AI_PYTHON))


@contextlib.contextmanager
def work_dir(kind):
    """A private temporary directory ``vaultcube-<kind>-*`` for a worker's files, removed on exit.

    The worker script, its configuration, its output files and ChildRun's logs go there; it is
    removed however the block ends (a result, ``fail_json``, a signal).
    """
    path = tempfile.mkdtemp(prefix="vaultcube-%s-" % kind)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def write_bundle(directory, modules, main_source=None, main_name="worker_main.py"):
    """Write the source of each module object into ``directory`` under its short name.

    Works from AnsiballZ's zip too (inspect reads through the zip importer). Returns the path of
    the main script when ``main_source`` is given.
    """
    for mod in modules:
        short = mod.__name__.rsplit(".", 1)[-1]
        with open(os.path.join(directory, short + ".py"), "w") as handle:
            handle.write(inspect.getsource(mod))
    if main_source is not None:
        path = os.path.join(directory, main_name)
        with open(path, "w") as handle:
            handle.write(main_source)
        return path
    return None


def set_parent_death_signal(sig=signal.SIGTERM):
    """Ask Linux to send ``sig`` to this process when its parent dies (no-op elsewhere)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, int(sig), 0, 0, 0)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):
        pass


def _preexec():
    set_parent_death_signal(signal.SIGTERM)


def processes_with_marker(marker):
    """PIDs of live processes whose environment carries MARKER_VAR=marker (Linux /proc)."""
    needle = ("%s=%s" % (MARKER_VAR, marker)).encode()
    pids = []
    me = os.getpid()
    try:
        entries = os.listdir("/proc")
    except OSError:
        return pids
    for entry in entries:
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open("/proc/%s/environ" % entry, "rb") as handle:
                env = handle.read().split(b"\0")
        except OSError:
            continue
        if needle in env:
            pids.append(int(entry))
    return pids


def _signal_group(pgid, sig):
    try:
        os.killpg(pgid, sig)
        return True
    except OSError:
        return False


def _kill_pids(pids, sig):
    for pid in pids:
        try:
            os.kill(pid, sig)
        except OSError:
            pass


def tail_lines(path, count=20, max_bytes=65536):
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - max_bytes))
            data = handle.read().decode("utf-8", "replace")
    except OSError:
        return []
    lines = [line for line in data.splitlines() if line.strip()]
    return lines[-count:]


class ChildRun:
    """One child process (group) with a timeout and a guaranteed cleanup."""

    def __init__(self, argv, env=None, cwd=None, timeout=None, grace=10.0, workdir=None):
        self.argv = list(argv)
        self.timeout = timeout
        self.grace = grace
        self.cwd = cwd
        self.marker = uuid.uuid4().hex
        self.env = dict(os.environ if env is None else env)
        self.env[MARKER_VAR] = self.marker
        self.env.setdefault("PYTHONUNBUFFERED", "1")
        for key, value in SAFE_MULTI_GPU_ENV.items():
            self.env.setdefault(key, value)
        self.workdir = workdir or tempfile.mkdtemp(prefix="vaultcube-run-")
        self.stdout_path = os.path.join(self.workdir, "stdout.log")
        self.stderr_path = os.path.join(self.workdir, "stderr.log")
        self.proc = None
        self.timed_out = False
        self.interrupted = None
        self.leftover = []
        self.duration = None
        self._old_handlers = {}

    # -- signal handling: a module killed by async/timeout/Ctrl-C takes its children with it
    def _on_signal(self, signum, frame):  # pylint: disable=unused-argument
        self.interrupted = signum
        self.stop()
        raise SystemExit(128 + signum)

    def _install_handlers(self):
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            try:
                self._old_handlers[sig] = signal.signal(sig, self._on_signal)
            except (ValueError, OSError):  # not the main thread
                pass

    def _restore_handlers(self):
        for sig, handler in self._old_handlers.items():
            try:
                signal.signal(sig, handler)
            except (ValueError, OSError):
                pass
        self._old_handlers = {}

    def start(self):
        import subprocess  # pylint: disable=import-outside-toplevel

        self._install_handlers()
        out = open(self.stdout_path, "wb")
        err = open(self.stderr_path, "wb")
        try:
            # run_command() blocks and cannot give the child its own session, a timeout that
            # stops a whole process group, or a parent-death signal: this needs Popen.
            self.proc = subprocess.Popen(  # pylint: disable=consider-using-with,ansible-bad-function
                self.argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=self.cwd,
                env=self.env, start_new_session=True, preexec_fn=_preexec, close_fds=True)
        finally:
            out.close()
            err.close()
        self._started = time.time()
        return self

    def poll(self):
        return self.proc.poll() if self.proc else None

    def wait(self, poll_interval=0.2, on_tick=None):
        """Wait for the child; on timeout stop the group. Returns the exit status."""
        deadline = (self._started + self.timeout) if self.timeout else None
        try:
            while True:
                rc = self.proc.poll()
                if rc is not None:
                    break
                if on_tick is not None:
                    on_tick(self)
                if deadline is not None and time.time() >= deadline:
                    self.timed_out = True
                    self.stop()
                    rc = self.proc.poll()
                    break
                time.sleep(poll_interval)
        finally:
            self.duration = time.time() - self._started
            # The leader may be gone while workers it started still run (a crash in torchrun, a
            # worker that double-forked): sweep the group and the marker in every case.
            self.stop()
            self._restore_handlers()
        return rc

    def stop(self):
        """Terminate the child's process group, then anything else with our marker."""
        if self.proc is None:
            return
        pgid = self.proc.pid
        if self.proc.poll() is None or processes_with_marker(self.marker):
            _signal_group(pgid, signal.SIGTERM)
            _kill_pids(processes_with_marker(self.marker), signal.SIGTERM)
            end = time.time() + self.grace
            while time.time() < end:
                if self.proc.poll() is not None and not processes_with_marker(self.marker):
                    break
                time.sleep(0.1)
            _signal_group(pgid, signal.SIGKILL)
            _kill_pids(processes_with_marker(self.marker), signal.SIGKILL)
            try:
                self.proc.wait(timeout=5)
            except Exception:  # pylint: disable=broad-except
                pass
            end = time.time() + 5
            while time.time() < end and processes_with_marker(self.marker):
                time.sleep(0.1)
        self.leftover = processes_with_marker(self.marker)

    def stdout(self):
        try:
            with open(self.stdout_path) as handle:
                return handle.read()
        except OSError:
            return ""

    def stderr_tail(self, count=20):
        return tail_lines(self.stderr_path, count)

    def stdout_tail(self, count=20):
        return tail_lines(self.stdout_path, count)


def describe_exit(rc, timed_out=False, timeout=None):
    """A sentence fragment for how a child ended."""
    if timed_out:
        return "did not finish within its timeout of %ss and was stopped" % timeout
    if rc is None:
        return "did not report an exit status"
    if rc < 0:
        try:
            name = signal.Signals(-rc).name
        except (ValueError, AttributeError):
            name = "signal %d" % -rc
        if -rc == signal.SIGKILL:
            return "was killed by %s (often the kernel's out-of-memory killer)" % name
        return "was killed by %s" % name
    return "exited with status %d" % rc


OOM_PATTERNS = (
    "CUDA out of memory",
    "OutOfMemoryError",
    "CUBLAS_STATUS_ALLOC_FAILED",
    "cudaErrorMemoryAllocation",
    "out of memory",
    "MemoryError",
)


def looks_like_oom(lines):
    text = "\n".join(lines or [])
    return any(pattern in text for pattern in OOM_PATTERNS)
