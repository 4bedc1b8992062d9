# -*- coding: utf-8 -*-
import os
import signal
import subprocess
import sys
import textwrap
import time

from ansible_collections.vaultcube.demobox.plugins.module_utils import _proc

# A child that starts two grandchildren (one of which leaves the process group) and sleeps.
FAMILY = textwrap.dedent("""
    import os, subprocess, sys, time
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    print("started", flush=True)
    time.sleep(60)
""")


def alive(pids):
    return [p for p in pids if os.path.exists("/proc/%d" % p) and open("/proc/%d/stat" % p).read().split()[2] != "Z"]


def test_exit_status_and_output(tmp_path):
    run = _proc.ChildRun([sys.executable, "-c", "import sys; print('hello'); sys.stderr.write('boom\\n'); sys.exit(3)"],
                         workdir=str(tmp_path)).start()
    assert run.wait() == 3
    assert run.stdout().strip() == "hello" and run.stderr_tail() == ["boom"]
    assert not run.timed_out and run.leftover == []


def test_timeout_stops_the_whole_family(tmp_path):
    run = _proc.ChildRun([sys.executable, "-c", FAMILY], timeout=2, grace=2, workdir=str(tmp_path)).start()
    time.sleep(1)
    family = _proc.processes_with_marker(run.marker)
    assert len(family) == 3
    rc = run.wait()
    assert run.timed_out and rc is not None
    assert run.leftover == [] and alive(family) == []
    assert "did not finish within its timeout of 2s" in _proc.describe_exit(rc, True, 2)


def test_leader_exit_still_sweeps_descendants(tmp_path):
    code = "import subprocess, sys; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'], start_new_session=True)"
    run = _proc.ChildRun([sys.executable, "-c", code], grace=2, workdir=str(tmp_path)).start()
    assert run.wait() == 0
    assert run.leftover == [] and _proc.processes_with_marker(run.marker) == []


def test_sigterm_to_the_module_takes_the_children(tmp_path):
    # A "module" process that runs a ChildRun; we SIGTERM it as an async timeout would.
    script = tmp_path / "module.py"
    script.write_text(textwrap.dedent("""
        import sys
        sys.path.insert(0, %r)
        from ansible_collections.vaultcube.demobox.plugins.module_utils import _proc
        run = _proc.ChildRun([sys.executable, "-c", %r], grace=2).start()
        print(run.marker, flush=True)
        run.wait()
    """) % (os.path.abspath(os.path.join(os.path.dirname(_proc.__file__), "..", "..", "..", "..", "..")), FAMILY))
    module = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    marker = module.stdout.readline().strip()
    deadline = time.time() + 10
    while len(_proc.processes_with_marker(marker)) < 3 and time.time() < deadline:
        time.sleep(0.1)
    assert len(_proc.processes_with_marker(marker)) == 3
    module.send_signal(signal.SIGTERM)
    assert module.wait(timeout=20) == 128 + signal.SIGTERM
    time.sleep(0.2)
    assert _proc.processes_with_marker(marker) == []


def test_sigkill_to_the_module_takes_the_direct_child(tmp_path):
    script = tmp_path / "module.py"
    script.write_text(textwrap.dedent("""
        import sys
        sys.path.insert(0, %r)
        from ansible_collections.vaultcube.demobox.plugins.module_utils import _proc
        run = _proc.ChildRun([sys.executable, "-c", "import time; time.sleep(60)"]).start()
        print(run.proc.pid, flush=True)
        run.wait()
    """) % os.path.abspath(os.path.join(os.path.dirname(_proc.__file__), "..", "..", "..", "..", "..")))
    module = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    child = int(module.stdout.readline())
    module.kill()
    module.wait()
    deadline = time.time() + 5
    while alive([child]) and time.time() < deadline:
        time.sleep(0.1)
    assert alive([child]) == []


def test_environment_is_marked_and_safe(tmp_path):
    run = _proc.ChildRun([sys.executable, "-c", "import os; print(os.environ['VAULTCUBE_RUN_ID'], os.environ['NCCL_NVLS_ENABLE'])"],
                         env={"PATH": os.environ["PATH"]}, workdir=str(tmp_path)).start()
    run.wait()
    marker, nvls = run.stdout().split()
    assert marker == run.marker and nvls == "0"


def test_describe_exit():
    assert _proc.describe_exit(0) == "exited with status 0"
    assert _proc.describe_exit(2) == "exited with status 2"
    assert "out-of-memory" in _proc.describe_exit(-9)
    assert _proc.describe_exit(-15) == "was killed by SIGTERM"
    assert _proc.describe_exit(None) == "did not report an exit status"


def test_looks_like_oom():
    assert _proc.looks_like_oom(["torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB"])
    assert not _proc.looks_like_oom(["RuntimeError: NCCL error"])


def test_tail_lines(tmp_path):
    path = tmp_path / "log"
    path.write_text("\n".join("line %d" % i for i in range(100)) + "\n\n")
    assert _proc.tail_lines(str(path), 3) == ["line 97", "line 98", "line 99"]
    assert _proc.tail_lines(str(tmp_path / "missing")) == []


def test_default_interpreter(tmp_path):
    assert _proc.default_interpreter(str(tmp_path / "nope")) == sys.executable
    exe = tmp_path / "python"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    assert _proc.default_interpreter(str(exe)) == str(exe)


def test_write_bundle(tmp_path):
    main = _proc.write_bundle(str(tmp_path), [_proc], "print('main')\n")
    assert os.path.basename(main) == "worker_main.py"
    assert (tmp_path / "_proc.py").read_text().startswith("# -*- coding: utf-8 -*-")
