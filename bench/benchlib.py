# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Shared pieces of kiln's benchmark scripts: timed runs, profilers started and
stopped around workloads, their CPU and memory."""
import os
import signal
import statistics
import subprocess
import time


def proc_cpu(pid):
    """CPU seconds (user + system, all threads) of a live process: the
    scheduler's run time of each thread, exact where /proc/PID/stat counts
    10 ms ticks (a profiler's 5 s window would read 0.2% steps)."""
    total, found = 0, False
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            try:
                with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                    total += int(f.read().split()[0])
                found = True
            except (FileNotFoundError, ProcessLookupError):
                pass  # the thread ended
    except FileNotFoundError:
        pass
    if found:
        return total / 1e9
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def run_timed(cmd, **kw):
    t = time.monotonic()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)
    return time.monotonic() - t


class Profiler:
    def __init__(self, name, cmd, ready, tmp, settle=0.5):
        """@settle: seconds between the profiler saying it is ready and the
        workloads (start-up, the first drains and calibration are not steady
        cost)."""
        self.name, self.cmd, self.ready, self.tmp, self.settle = name, cmd, ready, tmp, settle
        self.proc = None

    def start(self):
        if not self.cmd:
            return
        self.err = open(os.path.join(self.tmp, self.name + ".err"), "w+")
        self.t0 = time.monotonic()
        # bpftrace says "Attaching" on stdout, kiln "sampling" on stderr
        self.proc = subprocess.Popen(self.cmd, stdout=self.err, stderr=self.err, cwd=self.tmp)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            self.err.seek(0)
            if self.ready is None and time.monotonic() - self.t0 > 1.5 or \
                    self.ready is not None and self.ready in self.err.read():
                time.sleep(self.settle)  # let every CPU's event start, and settle
                self.t_ready, self.c_ready = time.monotonic(), proc_cpu(self.proc.pid)
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.err.seek(0)
        raise SystemExit("%s did not start: %s" % (self.name, self.err.read()[-500:]))

    def mark(self):
        """Start the steady window again now; returns the CPU seconds per
        second since the previous mark (or since ready)."""
        if not self.proc:
            return None
        t, c = time.monotonic(), proc_cpu(self.proc.pid)
        share = (c - self.c_ready) / (t - self.t_ready)
        self.t_ready, self.c_ready = t, c
        return share

    def stop(self):
        """Returns (steady-state CPU seconds per second, CPU seconds per second
        over the whole life including start-up and writing results, peak RSS
        in KiB)."""
        if not self.proc:
            return None, None, None
        steady = (proc_cpu(self.proc.pid) - self.c_ready) / (time.monotonic() - self.t_ready)
        self.proc.send_signal(signal.SIGINT)
        _, status, ru = os.wait4(self.proc.pid, 0)
        self.proc.returncode = status
        wall = time.monotonic() - self.t0
        self.proc = None
        return steady, (ru.ru_utime + ru.ru_stime) / wall, ru.ru_maxrss


def slowdown_cell(times, base):
    """"+1.2% [-0.5..+3.0]": median slowdown against @base, with the extremes."""
    med = statistics.median(times)
    sl = [100 * (t / base - 1) for t in times]
    return "%+.1f%% [%+.1f..%+.1f]" % (100 * (med / base - 1), min(sl), max(sl))


def paired_slowdown_cell(times, base_times):
    """Like slowdown_cell, but each run against the baseline run of its own round
    (rounds are interleaved): drift of the machine over minutes cancels out."""
    sl = [100 * (t / b - 1) for t, b in zip(times, base_times)]
    return "%+.1f%% [%+.1f..%+.1f]" % (statistics.median(sl), min(sl), max(sl))


def abs_cell(times):
    return "%.3f s [%.3f..%.3f]" % (statistics.median(times), min(times), max(times))
