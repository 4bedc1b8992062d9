# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""vaultcube-monitor: GPUs, CPU, memory and disk in one refreshing terminal view, and a CSV log.

    vaultcube-monitor                          # refresh every 2 s until Ctrl-C
    vaultcube-monitor --interval 1 --count 60 --csv /var/log/vaultcube/gpu.csv
    vaultcube-monitor --no-screen --csv run.csv --interval 5   # log only (nohup, tmux)
    vaultcube-monitor --no-screen --prometheus /var/lib/prometheus/node-exporter/vaultcube_gpu.prom
                                               # node_exporter's textfile collector (a service)

The monitoring role installs this file with _nvml.py beside it under /usr/local/lib/vaultcube-monitor
(and _prometheus.py) and a launcher /usr/local/bin/vaultcube-monitor that runs it with the AI venv's python (which has
nvidia-ml-py) or python3. From a checkout: ``python3 plugins/module_utils/_monitor.py --count 5``.

GPU figures come from NVML through _nvml.py (nvidia-ml-py, import name pynvml), the same helpers
the collection's modules use; CPU, memory and disk from /proc and statvfs. Nothing here imports
Ansible, and nothing here changes the machine.
"""

from __future__ import absolute_import, division, print_function

import argparse
import csv
import datetime
import os
import signal
import socket
import sys
import time

try:
    from ansible_collections.vaultcube.demobox.plugins.module_utils import _nvml, _prometheus
except ImportError:  # installed as a plain script with _nvml.py and _prometheus.py beside it
    import _nvml  # pylint: disable=import-error
    import _prometheus  # pylint: disable=import-error

GPU_FIELDS = ("gpu", "name", "temperature_c", "power_w", "power_limit_w", "sm_clock_mhz", "memory_clock_mhz",
              "utilization_gpu_percent", "utilization_memory_percent", "memory_used_mib", "memory_total_mib",
              "fan_speed_percent", "performance_state", "throttle_reasons")
HOST_FIELDS = ("cpu_percent", "load_1m", "mem_used_mib", "mem_total_mib", "swap_used_mib",
               "disk_root_used_percent", "disk_read_mb_s", "disk_write_mb_s")
CSV_FIELDS = ("timestamp", "sample") + GPU_FIELDS + HOST_FIELDS

# Filesystems worth showing (not proc, tmpfs, cgroup, ...).
# An overlay counts only as "/" (a container's root); docker's other overlay mounts are not disks.
REAL_FS = ("ext2", "ext3", "ext4", "xfs", "btrfs", "zfs", "vfat", "f2fs", "nfs", "nfs4", "cifs")
# Reasons that are normal at idle or under load; the rest are shown in upper case.
CALM_REASONS = ("gpu_idle", "sw_power_cap", "applications_clocks_setting", "sync_boost")


def _read(path):
    with open(path) as handle:
        return handle.read()


class CpuSampler:
    """Busy share of all CPUs between two reads of /proc/stat."""

    def __init__(self, proc="/proc"):
        self.path = os.path.join(proc, "stat")
        self.last = self._times()
        self.threads = max(1, len([line for line in self._lines() if line.startswith("cpu") and line[3:4].isdigit()]))

    def _lines(self):
        try:
            return _read(self.path).splitlines()
        except OSError:
            return []

    def _times(self):
        for line in self._lines():
            if line.startswith("cpu "):
                values = [int(v) for v in line.split()[1:]]
                idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
                return sum(values[:8]), idle
        return None

    def sample(self):
        now = self._times()
        before, self.last = self.last, now
        if now is None or before is None or now[0] <= before[0]:
            return None
        total, idle = now[0] - before[0], now[1] - before[1]
        return round(100.0 * (total - idle) / total, 1)


def memory(proc="/proc"):
    info = {}
    try:
        for line in _read(os.path.join(proc, "meminfo")).splitlines():
            key, dummy, rest = line.partition(":")
            info[key] = int(rest.split()[0]) // 1024  # kB -> MiB
    except (OSError, ValueError, IndexError):
        return {"mem_used_mib": None, "mem_total_mib": None, "swap_used_mib": None, "swap_total_mib": None}
    total = info.get("MemTotal")
    available = info.get("MemAvailable", info.get("MemFree"))
    swap_total = info.get("SwapTotal")
    return {
        "mem_total_mib": total,
        "mem_used_mib": (total - available) if total is not None and available is not None else None,
        "swap_total_mib": swap_total,
        "swap_used_mib": (swap_total - info.get("SwapFree", 0)) if swap_total is not None else None,
    }


def filesystems(proc="/proc", statvfs=os.statvfs):
    """Used/total of each real filesystem, '/' first, one entry per device."""
    entries, seen = [], set()
    try:
        lines = _read(os.path.join(proc, "mounts")).splitlines()
    except OSError:
        lines = []
    mounts = []
    for line in lines:
        parts = line.split()
        if len(parts) < 3:
            continue
        device, mountpoint, fstype = parts[0], parts[1].replace("\\040", " "), parts[2]
        if fstype in REAL_FS or mountpoint == "/":
            mounts.append((device, mountpoint))
    if not any(mount[1] == "/" for mount in mounts):
        mounts.insert(0, ("rootfs", "/"))
    mounts.sort(key=lambda item: (item[1] != "/", item[1]))
    for device, mountpoint in mounts:
        if device in seen and device.startswith("/dev/"):
            continue
        try:
            st = statvfs(mountpoint)
        except OSError:
            continue
        total = st.f_blocks * st.f_frsize
        if total <= 0:
            continue
        seen.add(device)
        used = (st.f_blocks - st.f_bfree) * st.f_frsize
        entries.append({"mount": mountpoint, "device": device, "used_gib": used / 1024.0 ** 3,
                        "total_gib": total / 1024.0 ** 3, "used_percent": round(100.0 * used / total, 1)})
    return entries


class DiskIoSampler:
    """Read and write MB/s summed over whole disks (not partitions, loop or ram devices)."""

    def __init__(self, proc="/proc", sys_block="/sys/block"):
        self.path = os.path.join(proc, "diskstats")
        try:
            self.disks = set(d for d in os.listdir(sys_block) if not d.startswith(("loop", "ram", "zram", "dm-", "md")))
        except OSError:
            self.disks = None
        self.last = self._read()

    def _read(self):
        try:
            lines = _read(self.path).splitlines()
        except OSError:
            return None
        read = written = 0
        for line in lines:
            parts = line.split()
            if len(parts) < 10:
                continue
            name = parts[2]
            if self.disks is not None and name not in self.disks:
                continue
            read += int(parts[5])
            written += int(parts[9])
        return time.time(), read, written

    def sample(self):
        now = self._read()
        before, self.last = self.last, now
        if now is None or before is None or now[0] <= before[0]:
            return None, None
        seconds = now[0] - before[0]
        mb = 512.0 / 1e6  # sectors are 512 bytes in /proc/diskstats
        return round((now[1] - before[1]) * mb / seconds, 2), round((now[2] - before[2]) * mb / seconds, 2)


class GpuSampler:
    """NVML telemetry of every GPU, through _nvml. A missing driver or binding is a reason, not an error."""

    def __init__(self, nvml=None, reason=None):
        self.nvml = nvml
        self.reason = reason
        self.handles = []
        self.names = []
        self.driver = None
        self.cuda = None
        if nvml is None:
            self.reason = reason or "the NVML binding (nvidia-ml-py) is not installed"
            return
        try:
            nvml.nvmlInit()
        except nvml.NVMLError as exc:  # pylint: disable=catching-non-exception
            self.reason = _nvml.init_failure_reason(exc)
            self.nvml = None
            return
        except OSError as exc:
            self.reason = "the NVML library could not be loaded: %s" % exc
            self.nvml = None
            return
        self.reader = _nvml.Reader(nvml)
        system = _nvml.system_info(self.reader)
        self.driver, self.cuda = system.get("driver_version"), system.get("cuda_driver_version")
        count = nvml.nvmlDeviceGetCount()
        self.handles = [nvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
        self.names = [_nvml._text(self.reader.get("nvmlDeviceGetName", h)) for h in self.handles]  # pylint: disable=protected-access
        if not count:
            self.reason = "the NVIDIA driver is loaded but reports no GPU"

    def sample(self):
        rows = []
        for index, handle in enumerate(self.handles):
            try:
                row = _nvml.monitor_sample(self.reader, handle, index)
            except self.nvml.NVMLError as exc:  # pylint: disable=catching-non-exception
                row = {"gpu": index, "error": str(exc)}
            row["name"] = self.names[index]
            rows.append(row)
        return rows

    def close(self):
        if self.nvml is not None:
            try:
                self.nvml.nvmlShutdown()
            except self.nvml.NVMLError:  # pylint: disable=catching-non-exception
                pass


class Monitor:
    def __init__(self, gpu, proc="/proc", sys_block="/sys/block", statvfs=os.statvfs, clock=time.time):
        self.gpu = gpu
        self.proc = proc
        self.statvfs = statvfs
        self.clock = clock
        self.cpu = CpuSampler(proc)
        self.disk_io = DiskIoSampler(proc, sys_block)

    def sample(self):
        try:
            load = os.getloadavg()
        except OSError:
            load = (None, None, None)
        read, write = self.disk_io.sample()
        disks = filesystems(self.proc, self.statvfs)
        host = {"cpu_percent": self.cpu.sample(), "threads": self.cpu.threads, "load": load,
                "disks": disks, "disk_read_mb_s": read, "disk_write_mb_s": write}
        host.update(memory(self.proc))
        root = [d for d in disks if d["mount"] == "/"]
        host["disk_root_used_percent"] = root[0]["used_percent"] if root else None
        return {"time": self.clock(), "gpus": self.gpu.sample(), "host": host}


def _v(value, fmt="%s", none="-"):
    return none if value is None else fmt % value


def reasons_text(reasons):
    if reasons is None:
        return "-"
    if not reasons:
        return "none"
    return ",".join(r if r in CALM_REASONS else r.upper() for r in reasons)


def render(snapshot, number, count, interval, gpu, hostname=None):
    """The screen as a list of lines."""
    stamp = datetime.datetime.fromtimestamp(snapshot["time"]).strftime("%Y-%m-%d %H:%M:%S")
    lines = ["vaultcube-monitor  %s  %s  sample %d%s  every %gs  (Ctrl-C quits)" % (
        hostname or socket.gethostname(), stamp, number, ("/%d" % count) if count else "", interval)]
    if gpu.handles:
        lines.append("GPUs: %d  driver %s  CUDA %s" % (len(gpu.handles), gpu.driver or "-", gpu.cuda or "-"))
        lines.append("%-3s %-24s %5s %13s %11s %6s %6s %15s %4s  %s" % (
            "GPU", "name", "temp", "power W", "SM/mem MHz", "util", "mutil", "memory MiB", "fan", "clock events"))
        for row in snapshot["gpus"]:
            if row.get("error"):
                lines.append("%-3s %-24s error: %s" % (row["gpu"], (row.get("name") or "")[:24], row["error"]))
                continue
            lines.append("%-3s %-24s %5s %13s %11s %6s %6s %15s %4s  %s" % (
                row["gpu"], (row.get("name") or "")[:24], _v(row["temperature_c"], "%dC"),
                "%s / %s" % (_v(row["power_w"], "%.0f"), _v(row["power_limit_w"], "%.0f")),
                "%s/%s" % (_v(row["sm_clock_mhz"]), _v(row["memory_clock_mhz"])),
                _v(row["utilization_gpu_percent"], "%d%%"), _v(row["utilization_memory_percent"], "%d%%"),
                "%s / %s" % (_v(row["memory_used_mib"]), _v(row["memory_total_mib"])),
                _v(row["fan_speed_percent"], "%d%%"), reasons_text(row["clocks_event_reasons"])))
    else:
        lines.append("GPUs: none (%s)" % gpu.reason)
    host = snapshot["host"]
    load = host["load"]
    lines.append("CPU   %s busy  (%d threads)  load %s %s %s" % (
        _v(host["cpu_percent"], "%5.1f%%", "  -  "), host["threads"], _v(load[0], "%.2f"), _v(load[1], "%.2f"),
        _v(load[2], "%.2f")))
    if host["mem_total_mib"]:
        lines.append("Mem   %.1f / %.1f GiB (%d%%)  swap %.1f / %.1f GiB" % (
            host["mem_used_mib"] / 1024.0, host["mem_total_mib"] / 1024.0,
            round(100.0 * host["mem_used_mib"] / host["mem_total_mib"]),
            (host["swap_used_mib"] or 0) / 1024.0, (host["swap_total_mib"] or 0) / 1024.0))
    lines.append("Disk  read %s MB/s  write %s MB/s" % (
        _v(host["disk_read_mb_s"], "%.1f"), _v(host["disk_write_mb_s"], "%.1f")))
    for disk in host["disks"][:8]:
        lines.append("      %-24s %8.1f / %8.1f GiB (%d%%)" % (
            disk["mount"][:24], disk["used_gib"], disk["total_gib"], round(disk["used_percent"])))
    return lines


def csv_rows(snapshot, number):
    """One row per GPU (one row without GPU fields when there is none), host figures on each."""
    host = snapshot["host"]
    stamp = datetime.datetime.fromtimestamp(snapshot["time"]).isoformat(timespec="seconds")
    load = host["load"][0]
    common = {"timestamp": stamp, "sample": number, "load_1m": round(load, 2) if load is not None else None}
    for key in HOST_FIELDS:
        common.setdefault(key, host.get(key))
    rows = []
    for gpu in snapshot["gpus"] or [None]:
        row = dict(common)
        if gpu is not None:
            for key in GPU_FIELDS:
                row[key] = gpu.get(key)
            row["gpu"] = gpu.get("gpu")
            row["throttle_reasons"] = "|".join(gpu.get("clocks_event_reasons") or []) if not gpu.get("error") else "error"
        rows.append(row)
    return rows


class CsvLog:
    def __init__(self, path):
        self.path = path
        new = not os.path.exists(path) or os.path.getsize(path) == 0
        self.handle = open(path, "a", newline="")
        self.writer = csv.DictWriter(self.handle, fieldnames=CSV_FIELDS, extrasaction="ignore", lineterminator="\n")
        if new:
            self.writer.writeheader()

    def write(self, rows):
        self.writer.writerows(rows)
        self.handle.flush()

    def close(self):
        self.handle.close()


def write_prometheus(path, snapshot, gpu, hostname=None):
    """Rewrite ``path`` with this sample's GPU figures (Prometheus text format, atomically)."""
    text = _prometheus.gpu_textfile(snapshot["gpus"], hostname or socket.gethostname(), driver=gpu.driver,
                                    cuda=gpu.cuda, reason=gpu.reason if gpu.nvml is None else None,
                                    timestamp=round(snapshot["time"], 3))
    try:
        _prometheus.write_atomically(path, text)
    except OSError as exc:
        raise SystemExit("vaultcube-monitor: cannot write %s: %s." % (path, exc.strerror or exc))


def positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not a number of seconds" % text)
    if value <= 0:
        raise argparse.ArgumentTypeError("the interval must be more than 0 seconds")
    return value


def non_negative_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not a whole number" % text)
    if value < 0:
        raise argparse.ArgumentTypeError("the count must be 0 (run until stopped) or more")
    return value


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="vaultcube-monitor",
        description="GPUs (temperature, power, clocks, utilisation, memory, clock-event/throttle reasons), CPU, "
                    "memory and disk in one refreshing view; optionally logged to CSV.")
    parser.add_argument("--interval", "-i", type=positive_float, default=2.0, help="seconds between samples (default 2)")
    parser.add_argument("--count", "-n", type=non_negative_int, default=0,
                        help="stop after N samples (default 0: run until Ctrl-C)")
    parser.add_argument("--csv", metavar="PATH", help="append one row per GPU per sample to this CSV file")
    parser.add_argument("--prometheus", metavar="PATH",
                        help="rewrite this file (Prometheus text format, for node_exporter's textfile collector) "
                             "with the GPU figures of each sample")
    parser.add_argument("--no-screen", action="store_true", help="do not draw the view (log to --csv/--prometheus only)")
    parser.add_argument("--plain", action="store_true",
                        help="print each view below the last instead of redrawing (default when not a terminal)")
    args = parser.parse_args(argv)
    if args.no_screen and not (args.csv or args.prometheus):
        parser.error("--no-screen needs --csv PATH or --prometheus PATH (there would be nothing to see)")
    if args.prometheus and not args.prometheus.endswith(".prom"):
        parser.error("--prometheus %s: the file name must end in .prom (node_exporter reads only those)" % args.prometheus)
    return args


class _Stop(Exception):
    pass


def _on_signal(signum, frame):  # pylint: disable=unused-argument
    raise _Stop()


def run(args, monitor, out=None, sleep=time.sleep):
    """Sample until --count or a signal. Returns the number of samples taken."""
    out = sys.stdout if out is None else out
    log = None
    if args.csv:
        directory = os.path.dirname(os.path.abspath(args.csv))
        if not os.path.isdir(directory):
            raise SystemExit("vaultcube-monitor: cannot write %s: the directory %s does not exist." % (args.csv, directory))
        try:
            log = CsvLog(args.csv)
        except OSError as exc:
            raise SystemExit("vaultcube-monitor: cannot write %s: %s." % (args.csv, exc.strerror or exc))
    if args.prometheus:
        directory = os.path.dirname(os.path.abspath(args.prometheus))
        if not os.path.isdir(directory):
            raise SystemExit("vaultcube-monitor: cannot write %s: the directory %s does not exist." % (args.prometheus, directory))
    redraw = (not args.plain) and hasattr(out, "isatty") and out.isatty()
    taken = 0
    try:
        # The first CPU and disk figures need one interval to compare against.
        sleep(min(args.interval, 1.0))
        while True:
            taken += 1
            snapshot = monitor.sample()
            if log is not None:
                log.write(csv_rows(snapshot, taken))
            if args.prometheus:
                write_prometheus(args.prometheus, snapshot, monitor.gpu)
            if not args.no_screen:
                text = "\n".join(render(snapshot, taken, args.count, args.interval, monitor.gpu))
                out.write(("\033[H\033[2J" + text + "\n") if redraw else (text + "\n\n"))
                out.flush()
            if args.count and taken >= args.count:
                break
            sleep(args.interval)
    except (_Stop, KeyboardInterrupt):
        pass
    finally:
        if log is not None:
            log.close()
        monitor.gpu.close()
    return taken


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _on_signal)
    nvml, reason = _nvml.load_binding()
    monitor = Monitor(GpuSampler(nvml, reason))
    taken = run(args, monitor)
    if args.csv:
        sys.stderr.write("vaultcube-monitor: %d sample(s) written to %s\n" % (taken, args.csv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
