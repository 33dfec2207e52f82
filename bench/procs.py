"""Server processes on loopback for the benchmark, and their memory."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rss_kib(pid: int) -> int:
    """Resident memory of a process (VmRSS), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def cpu_seconds(pid: int) -> float:
    """CPU time a process has used so far (user + system), in seconds. Unlike a
    latency it hardly moves when other processes load the machine."""
    # Fields 14 and 15 of /proc/<pid>/stat, counted after the command name (which
    # may contain spaces, hence the split at its closing parenthesis).
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child_pids(pid: int) -> list[int]:
    """The direct children of a process (nginx's workers under its master)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in children]


def _connects_to_port(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=1):
        pass


def _connects_to_socket(path: Path) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(1)
        probe.connect(str(path))


@contextmanager
def _running(
    command: list[str],
    log: Path,
    env: dict[str, str] | None,
    where: str,
    connects: Callable[[], None],
) -> Iterator[subprocess.Popen[bytes]]:
    """A server process, its output in `log`, yielded once `connects()` (a probe of
    where it listens, `where` in messages) succeeds; stopped on leaving."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=out, stderr=out
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server on {where} exited ({process.returncode}); see {log}")
            try:
                connects()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"server on {where} did not come up; see {log}") from None
                time.sleep(0.1)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def server(
    args: list[str], log: Path, env: dict[str, str] | None = None
) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """Run `python <args> --port/-p PORT`-style servers; `{port}` in args is replaced."""
    port = free_port()
    command = [sys.executable, *(arg.replace("{port}", str(port)) for arg in args)]
    with _running(command, log, env, f"port {port}", lambda: _connects_to_port(port)) as process:
        yield port, process


def daphne(application: str) -> list[str]:
    return ["-m", "daphne", "-b", "127.0.0.1", "-p", "{port}", application]


@contextmanager
def daphne_behind_nginx(
    application: str, path: Path, log: Path, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """A Daphne process the way docs/deployment.md runs one behind nginx: on a Unix
    socket at `path`, taking the client's address from nginx's X-Forwarded-For."""
    command = [sys.executable, "-m", "daphne", "-u", str(path), "--proxy-headers", application]
    # nginx's workers run as an unprivileged user: they must reach the socket (Daphne
    # makes it writable by all), as systemd's RuntimeDirectory (0755) lets them.
    path.parent.chmod(0o755)
    with _running(command, log, env, str(path), lambda: _connects_to_socket(path)) as process:
        yield process


@contextmanager
def index_worker(log: Path, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """`manage.py index_worker`, the deployment's search index writer (docs/deployment.md):
    the web processes only queue their index jobs (SEARCH_INDEX_WORKER=1)."""
    # Niced, as its systemd unit: the index may lag a busy moment, a ringing phone not.
    command = ["nice", "-n", "10", sys.executable, "manage.py", "index_worker"]
    # Nothing to wait for: what the web processes queue meanwhile waits in the queue.
    with _running(command, log, env, "index_worker", lambda: None) as process:
        yield process


@contextmanager
def profiled(pid: int, output: Path | None) -> Iterator[None]:
    """Samples the process with py-spy (collapsed stacks in `output`) while inside."""
    if output is None:
        yield
        return
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    with output.with_suffix(".log").open("wb") as log:
        process = subprocess.Popen(
            [
                spy,
                "record",
                "--pid",
                str(pid),
                "--output",
                str(output),
                "--format",
                "raw",
                "--rate",
                "250",
                "--nonblocking",
            ],
            stdout=log,
            stderr=log,
        )
    time.sleep(1)  # py-spy attaches
    try:
        yield
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def nginx_upstream(address: int | Path) -> str:
    """nginx's name for a Daphne process: a loopback port or a Unix socket's path."""
    return f"unix:{address}" if isinstance(address, Path) else f"127.0.0.1:{address}"


@contextmanager
def nginx(upstreams: list[int | Path], work: Path) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """nginx (Debian package) proxying HTTP and the websocket upgrade to the given
    Daphne processes (loopback ports or Unix sockets), configured from
    bench/nginx.conf."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).exists():
        raise RuntimeError("nginx is not installed: apt-get install nginx-light")
    port = free_port()
    prefix = work / "nginx"
    prefix.mkdir(exist_ok=True)
    config = (ROOT / "bench" / "nginx.conf").read_text()
    for key, value in {
        "{prefix}": str(prefix),
        "{listen}": str(port),
        "{upstreams}": "\n".join(f"        server {nginx_upstream(u)};" for u in upstreams),
    }.items():
        config = config.replace(key, value)
    (prefix / "nginx.conf").write_text(config)
    command = [binary, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"]
    with _running(
        command, prefix / "nginx.log", None, f"port {port}", lambda: _connects_to_port(port)
    ) as process:
        yield port, process
