"""The engine benchmark's instruments: the compiled mock upstream and load
generator (bench/engine/, built into build/bench/ by `make bench`), and
what the benchmark reads from /proc and from the engine's /metrics."""

import json
import os
import re
import select
import socket
import subprocess
import time
import urllib.request
from pathlib import Path


class ToolError(RuntimeError):
    pass


def read_line(proc, timeout):
    """The next line of a child's stdout within `timeout` seconds, or None."""
    deadline = time.monotonic() + timeout
    line = b""
    fd = proc.stdout.fileno()
    while not line.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return None
        chunk = os.read(fd, 1)
        if not chunk:
            return None
        line += chunk
    return line.decode()


class MockUpstream:
    """build/bench/mock_upstream, on a port of its own choosing."""

    def __init__(self, tools):
        self.proc = subprocess.Popen([str(tools / "mock_upstream"), "--port", "0"],
                                     stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
        line = read_line(self.proc, 5) or ""
        if not line.startswith("port "):
            self.stop()
            raise ToolError(f"the mock upstream did not start: {line!r}")
        self.port = int(line.split()[1])
        self.url = f"http://127.0.0.1:{self.port}"

    def configure(self, **settings):
        """first_ms, tokens, gap_ms, hold: for the requests that follow."""
        query = "&".join(f"{k}={int(v)}" for k, v in settings.items())
        urllib.request.urlopen(urllib.request.Request(
            f"{self.url}/config?{query}", method="POST"), timeout=5).read()

    def stats(self):
        """{"open": streams answering now, "served": streams answered}."""
        with urllib.request.urlopen(f"{self.url}/stats", timeout=5) as r:
            return json.loads(r.read())

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


class RelayChain:
    """Two build/bench/relay processes between a client and `port`: TCP in,
    a Unix socket at `socket_path` between them, TCP out, the hops nginx and
    the engine stand on. `port` is where the chain is entered."""

    def __init__(self, tools, port, socket_path):
        self.procs = []
        try:
            self._start(tools, ["--listen-unix", str(socket_path),
                                "--to-port", str(port)])
            self.port = int(self._start(tools, ["--listen-port", "0",
                                                "--to-unix", str(socket_path)]))
        except ToolError:
            self.stop()
            raise

    def _start(self, tools, argv):
        proc = subprocess.Popen([str(tools / "relay"), *argv],
                                stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
        self.procs.append(proc)
        line = read_line(proc, 5) or ""
        if not line.startswith("listening "):
            raise ToolError(f"a relay did not start: {line!r}")
        return line.split()[1]

    def stop(self):
        for proc in self.procs:
            proc.terminate()
            proc.wait()


def loadgen_argv(tools, port, body, headers, concurrency):
    argv = [str(tools / "loadgen"), "--port", str(port), "--body", body,
            "--concurrency", str(concurrency)]
    for h in headers:
        argv += ["--header", h]
    return argv


def closed_loop(tools, port, body, headers, concurrency, seconds, warmup,
                at_mark=lambda loadgen_pid: None):
    """One closed-loop run; the load generator's JSON answer, with "marks":
    what at_mark(the load generator's pid) returned as the timed part
    started and as it ended (the load generator says when)."""
    argv = loadgen_argv(tools, port, body, headers, concurrency) + [
        "--seconds", str(seconds), "--warmup", str(warmup)]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE,
                            stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + seconds + warmup + 120
    marks = []
    while (line := read_line(proc, deadline - time.monotonic())) in (
            "measuring\n", "measured\n"):
        marks.append(at_mark(proc.pid))
    if line is None:
        proc.kill()
        proc.wait()
        raise ToolError(f"loadgen at {concurrency} in flight never finished")
    if proc.wait() != 0:
        raise ToolError(f"loadgen at {concurrency} in flight failed "
                        f"(exit {proc.returncode})")
    return dict(json.loads(line), marks=marks)


class Holder:
    """A load generator holding `concurrency` streams open until closed."""

    def __init__(self, tools, port, body, headers, concurrency, ramp):
        argv = loadgen_argv(tools, port, body, headers, concurrency) + [
            "--hold", "--ramp", str(ramp)]
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE)

    def wait_held(self, timeout):
        """{"held": n, "errors": {...}} once every stream has its headers."""
        line = read_line(self.proc, timeout)
        return json.loads(line) if line else None

    def close(self):
        self.proc.stdin.close()  # the load generator's cue to let go
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def rss_kib(pid):
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.M).group(1))


def proc_stat(pid):
    """/proc/<pid>/stat's fields after the command name (field 3 on)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid):
    """utime + stime: all of the process's threads, living and ended; in
    clock ticks (10 ms), so a difference is good to a tick or two."""
    fields = proc_stat(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def with_children(pid):
    """pid and its children (nginx's workers, PostgreSQL's backends)."""
    pids = [pid]
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and int(proc_stat(proc.name)[1]) == pid:
                pids.append(int(proc.name))
        except (OSError, IndexError):
            continue  # ended while listed
    return pids


def machine_cpu_seconds():
    """(busy, total) CPU seconds of the machine since boot, all CPUs
    summed; idle and iowait are not busy."""
    hz = os.sysconf("SC_CLK_TCK")
    ticks = [int(t) for t in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    # user nice system idle iowait irq softirq steal (guest is inside user)
    total = sum(ticks[:8])
    return (total - ticks[3] - ticks[4]) / hz, total / hz


def cpu_snapshot(groups):
    """Each group's processes' CPU seconds ({name: [pid, ...]} in,
    {name: {pid: seconds}} out), the machine's, and when."""
    cpu = {}
    for name, pids in groups.items():
        cpu[name] = {}
        for pid in pids:
            try:
                cpu[name][pid] = cpu_seconds(pid)
            except OSError:
                continue  # ended between listing and reading
    return {"at": time.monotonic(), "machine": machine_cpu_seconds(), "cpu": cpu}


def cpu_used(before, after):
    """Between two snapshots: {"seconds": wall, "groups": {name: CPU
    seconds}, "machine_busy": share of all CPUs}.  A process started in
    between counts from zero; one ended in between is lost (its time goes
    to its parent's cutime, which is not read)."""
    groups = {name: sum(s - before["cpu"].get(name, {}).get(pid, 0.0)
                        for pid, s in pids.items())
              for name, pids in after["cpu"].items()}
    busy = after["machine"][0] - before["machine"][0]
    total = after["machine"][1] - before["machine"][1]
    return {"seconds": after["at"] - before["at"], "groups": groups,
            "machine_busy": busy / total if total else 0.0}


def engine_streams_open(engine_socket):
    """The engine's own count of open streams (parley_streams_open on its
    /metrics), or None if this engine does not expose it."""
    try:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(5)
            s.connect(str(engine_socket))
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: engine\r\n"
                      b"Connection: close\r\n\r\n")
            answer = b""
            while chunk := s.recv(65536):
                answer += chunk
    except OSError:
        return None
    text = answer.decode(errors="replace")
    if not text.startswith("HTTP/1.1 200"):
        return None
    m = re.search(r"^parley_streams_open\s+([0-9.]+)\s*$", text, re.M)
    return int(float(m.group(1))) if m else None
