# -*- coding: utf-8 -*-
"""vaultcube-monitor: /proc and statvfs replaced by files in tmp_path, NVML by fake_nvml."""
import csv
import io
import os
import types

import pytest
from fake_nvml import FakeNVML, h200, rtx5090

from ansible_collections.vaultcube.demobox.plugins.module_utils import _monitor as M
from ansible_collections.vaultcube.demobox.plugins.module_utils import _nvml

STAT = "cpu  {user} 0 {system} {idle} 0 0 0 0 0 0\ncpu0 1 0 1 1 0 0 0 0 0 0\ncpu1 1 0 1 1 0 0 0 0 0 0\n"
MEMINFO = "MemTotal:       16384000 kB\nMemFree:         1000000 kB\nMemAvailable:    8192000 kB\nSwapTotal:       2048000 kB\nSwapFree:        1024000 kB\n"
MOUNTS = ("/dev/vda1 / ext4 rw 0 0\nproc /proc proc rw 0 0\n/dev/vda1 /home ext4 rw 0 0\n"
          "/dev/nvme0n1p1 /data xfs rw 0 0\noverlay /var/lib/docker/overlay2/x/merged overlay rw 0 0\n"
          "tmpfs /run tmpfs rw 0 0\n/dev/sdb1 /mnt/my\\040disk ext4 rw 0 0\n")
DISKSTATS = ("   8       0 sda 100 0 {read} 0 50 0 {written} 0 0 0 0\n   8       1 sda1 100 0 999999 0 50 0 999999 0 0 0 0\n"
             "   7       0 loop0 1 0 999999 0 1 0 999999 0 0 0 0\n")


@pytest.fixture
def proc(tmp_path):
    root = tmp_path / "proc"
    root.mkdir()
    (root / "stat").write_text(STAT.format(user=100, system=100, idle=800))
    (root / "meminfo").write_text(MEMINFO)
    (root / "mounts").write_text(MOUNTS)
    (root / "diskstats").write_text(DISKSTATS.format(read=0, written=0))
    block = tmp_path / "block"
    for name in ("sda", "loop0"):
        (block / name).mkdir(parents=True)
    return root, block


def statvfs(path):
    sizes = {"/": (1000, 250), "/home": (1000, 250), "/data": (2000, 2000), "/mnt/my disk": (10, 5)}
    if path not in sizes:
        raise OSError(2, "No such file")
    blocks, free = sizes[path]
    return types.SimpleNamespace(f_blocks=blocks, f_bfree=free, f_frsize=1024 ** 3 // 1000)


def test_cpu_memory_disks(proc):
    root, block = proc
    cpu = M.CpuSampler(str(root))
    assert cpu.threads == 2
    (root / "stat").write_text(STAT.format(user=150, system=150, idle=900))   # 100 busy of 200
    assert cpu.sample() == 50.0
    assert cpu.sample() is None            # nothing moved since
    assert M.memory(str(root)) == {"mem_total_mib": 16000, "mem_used_mib": 8000, "swap_total_mib": 2000,
                                   "swap_used_mib": 1000}
    disks = M.filesystems(str(root), statvfs)
    assert [d["mount"] for d in disks] == ["/", "/data", "/mnt/my disk"]   # /home: same device as /
    assert disks[0]["used_percent"] == 75.0 and disks[1]["used_percent"] == 0.0
    io_sampler = M.DiskIoSampler(str(root), str(block))
    io_sampler.last = (io_sampler.last[0] - 2.0, 0, 0)                        # two seconds ago
    (root / "diskstats").write_text(DISKSTATS.format(read=2000000, written=4000000))
    read, write = io_sampler.sample()
    # 2e6 and 4e6 sectors of 512 bytes in 2 s, sda only (not its partition, not loop0)
    assert read == pytest.approx(512.0, rel=0.01) and write == pytest.approx(1024.0, rel=0.01)


def test_missing_proc_files(tmp_path):
    empty = str(tmp_path)
    assert M.CpuSampler(empty).sample() is None
    assert M.memory(empty)["mem_total_mib"] is None
    assert M.filesystems(empty, statvfs)[0]["mount"] == "/"
    sampler = M.DiskIoSampler(empty, str(tmp_path / "none"))
    assert sampler.disks is None and sampler.sample() == (None, None)


def test_gpu_sampler_reads_every_gpu_through_nvml():
    nvml = FakeNVML([h200(reasons=0x41), rtx5090(uuid="b")])
    gpu = M.GpuSampler(nvml)
    assert gpu.names == ["NVIDIA H200", "NVIDIA GeForce RTX 5090"] and gpu.driver == "580.95.05" and gpu.cuda == "13.0"
    rows = gpu.sample()
    assert rows[0]["clocks_event_reasons"] == ["gpu_idle", "hw_thermal_slowdown"]
    assert rows[1]["power_limit_w"] == 575.0 and rows[1]["memory_total_mib"] == 32607 and rows[1]["fan_speed_percent"] == 30
    assert rows[0]["fan_speed_percent"] is None          # passively cooled: not offered
    gpu.close()
    assert nvml.shutdowns == 1


def test_gpu_sampler_without_driver_binding_or_gpu():
    assert M.GpuSampler(None).reason == "the NVML binding (nvidia-ml-py) is not installed"
    assert M.GpuSampler(None, "no pynvml for /usr/bin/python3").reason == "no pynvml for /usr/bin/python3"
    no_driver = M.GpuSampler(FakeNVML(init_error=12))
    assert no_driver.handles == [] and "no NVIDIA driver is installed" in no_driver.reason
    assert no_driver.sample() == []
    no_driver.close()
    assert M.GpuSampler(FakeNVML([])).reason == "the NVIDIA driver is loaded but reports no GPU"

    class Broken(FakeNVML):
        def nvmlInit(self):
            raise OSError("libnvidia-ml.so.1: cannot open shared object file")
    assert M.GpuSampler(Broken()).reason.startswith("the NVML library could not be loaded")


def test_a_gpu_that_fails_mid_run_is_an_error_row():
    nvml = FakeNVML([h200()])
    gpu = M.GpuSampler(nvml)

    def lost(handle):
        raise nvml.NVMLError(15)  # GPU_IS_LOST
    nvml.nvmlDeviceGetUtilizationRates = lost
    rows = gpu.sample()
    assert rows == [{"gpu": 0, "error": "NVML error 15", "name": "NVIDIA H200"}]
    snapshot = {"time": 0, "gpus": rows, "host": host_figures()}
    assert "error: NVML error 15" in "\n".join(M.render(snapshot, 1, 1, 1.0, gpu, "box"))
    assert M.csv_rows(snapshot, 1)[0]["throttle_reasons"] == "error"


def host_figures():
    return {"cpu_percent": 12.5, "threads": 16, "load": (0.5, 0.4, 0.3), "disks": [
        {"mount": "/", "device": "/dev/vda1", "used_gib": 10.0, "total_gib": 100.0, "used_percent": 10.0}],
        "disk_read_mb_s": 1.0, "disk_write_mb_s": 2.0, "mem_total_mib": 16000, "mem_used_mib": 8000,
        "swap_total_mib": 0, "swap_used_mib": 0, "disk_root_used_percent": 10.0}


def test_render_and_csv_rows():
    gpu = M.GpuSampler(FakeNVML([h200(reasons=0x41, util=(97, 40))]))
    snapshot = {"time": 1795939200.0, "gpus": gpu.sample(), "host": host_figures()}
    lines = M.render(snapshot, 2, 5, 1.0, gpu, "demobox01")
    text = "\n".join(lines)
    assert lines[0].startswith("vaultcube-monitor  demobox01  ") and "sample 2/5  every 1s" in lines[0]
    assert "GPUs: 1  driver 580.95.05  CUDA 13.0" in text
    assert "NVIDIA H200" in text and "97%" in text and "gpu_idle,HW_THERMAL_SLOWDOWN" in text
    assert "CPU    12.5% busy  (16 threads)  load 0.50 0.40 0.30" in text
    assert "Mem   7.8 / 15.6 GiB (50%)" in text
    rows = M.csv_rows(snapshot, 2)
    assert len(rows) == 1 and rows[0]["gpu"] == 0 and rows[0]["utilization_gpu_percent"] == 97
    assert rows[0]["throttle_reasons"] == "gpu_idle|hw_thermal_slowdown" and rows[0]["cpu_percent"] == 12.5
    assert set(rows[0]) == set(M.CSV_FIELDS)
    empty = M.csv_rows({"time": 1795939200.0, "gpus": [], "host": host_figures()}, 1)
    assert len(empty) == 1 and "gpu" not in empty[0] and empty[0]["mem_used_mib"] == 8000
    assert M.reasons_text(None) == "-" and M.reasons_text([]) == "none"


class Tty(io.StringIO):
    def isatty(self):
        return True


def test_run_counts_logs_and_redraws(proc, tmp_path):
    root, block = proc
    monitor = M.Monitor(M.GpuSampler(FakeNVML([h200(), h200(uuid="x")])), str(root), str(block), statvfs,
                        clock=lambda: 1795939200.0)
    path = tmp_path / "log.csv"
    args = M.parse_args(["--count", "3", "--interval", "0.5", "--csv", str(path)])
    sleeps = []
    out = Tty()
    assert M.run(args, monitor, out=out, sleep=sleeps.append) == 3
    assert sleeps == [0.5, 0.5, 0.5]
    assert out.getvalue().count("\033[H\033[2J") == 3
    rows = list(csv.DictReader(open(path)))
    assert len(rows) == 6 and [r["sample"] for r in rows] == ["1", "1", "2", "2", "3", "3"]
    # appending: no second header
    args = M.parse_args(["--count", "1", "--interval", "0.1", "--csv", str(path), "--no-screen"])
    monitor.gpu = M.GpuSampler(None)
    plain = io.StringIO()
    assert M.run(args, monitor, out=plain, sleep=lambda s: None) == 1
    assert plain.getvalue() == ""
    lines = open(path).read().splitlines()
    assert len(lines) == 8 and lines[0].startswith("timestamp,") and not lines[7].startswith("timestamp")


def test_run_stops_cleanly_on_ctrl_c(proc):
    root, block = proc
    monitor = M.Monitor(M.GpuSampler(None), str(root), str(block), statvfs)
    calls = []

    def sleep(seconds):
        calls.append(seconds)
        if len(calls) == 3:
            raise KeyboardInterrupt
    out = io.StringIO()
    assert M.run(M.parse_args(["--interval", "2"]), monitor, out=out, sleep=sleep) == 2
    assert "GPUs: none (the NVML binding (nvidia-ml-py) is not installed)" in out.getvalue()
    assert "\033[" not in out.getvalue()     # not a terminal: plain frames


def test_run_refuses_an_unwritable_csv(proc, tmp_path):
    root, block = proc
    monitor = M.Monitor(M.GpuSampler(None), str(root), str(block), statvfs)
    with pytest.raises(SystemExit) as exc:
        M.run(M.parse_args(["--csv", str(tmp_path / "nope" / "x.csv")]), monitor, sleep=lambda s: None)
    assert str(exc.value) == "vaultcube-monitor: cannot write %s: the directory %s does not exist." % (
        tmp_path / "nope" / "x.csv", tmp_path / "nope")
    os.chmod(str(tmp_path), 0o500)
    try:
        if os.access(str(tmp_path), os.W_OK):   # root ignores the mode
            return
        with pytest.raises(SystemExit, match="cannot write"):
            M.run(M.parse_args(["--csv", str(tmp_path / "x.csv")]), monitor, sleep=lambda s: None)
    finally:
        os.chmod(str(tmp_path), 0o700)


@pytest.mark.parametrize("argv,message", [
    (["--interval", "0"], "the interval must be more than 0 seconds"),
    (["--interval", "soon"], "'soon' is not a number of seconds"),
    (["--count", "-1"], "the count must be 0 (run until stopped) or more"),
    (["--count", "many"], "'many' is not a whole number"),
    (["--no-screen"], "--no-screen needs --csv PATH"),
])
def test_bad_arguments(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        M.parse_args(argv)
    assert exc.value.code == 2 and message in capsys.readouterr().err


def test_main_end_to_end(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(_nvml, "load_binding", lambda *a: (FakeNVML([rtx5090()]), None))
    monkeypatch.setattr(M.time, "sleep", lambda s: None)
    path = tmp_path / "m.csv"
    assert M.main(["--count", "2", "--interval", "0.01", "--csv", str(path), "--plain"]) == 0
    captured = capsys.readouterr()
    assert captured.out.count("NVIDIA GeForce RTX 5090") == 2
    assert captured.err == "vaultcube-monitor: 2 sample(s) written to %s\n" % path
    with pytest.raises(M._Stop):
        M._on_signal(15, None)
