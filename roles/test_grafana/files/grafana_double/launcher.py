"""Start and stop the Grafana API double as a process: the one launcher, for Python and for YAML.

Standard library only, like the double. Everything a launch leaves is in one state directory:
``port`` (written by the double once it listens), ``pid``, ``double.log``.

From Python (the double's pytest support, ``bench/run.py``): a child process of the caller,
stopped by its PID with SIGTERM and reaped::

    from grafana_double.launcher import DoubleProcess
    with DoubleProcess(workdir, ["--version", "11.6"]) as double:
        double.url            # http://127.0.0.1:PORT (https with --cert/--key)
        double.api_url        # the same plus the --sub-path, if any

From the command line (the ``grafana_ops.auth.test_grafana`` role): a detached double that
outlives the command, one JSON object on stdout::

    python -m grafana_double.launcher start --dir DIR [--timeout 30] [-- DOUBLE-ARGS...]
    python -m grafana_double.launcher stop  --dir DIR [--timeout 20]
    python -m grafana_double.launcher status --dir DIR

``start`` is idempotent: when DIR's pid file names a live double started for DIR, it reports
that one (``"changed": false``) and starts no second process. ``stop`` signals only a process
whose command line is a double started for DIR (``/proc/PID/cmdline``, else ``ps``), waits
until it is gone and its port is closed; it refuses to signal anything else.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

PACKAGE_PARENT = Path(__file__).resolve().parents[1]  # the directory that holds grafana_double/


class LaunchError(RuntimeError):
    """The double did not start, or a stop found something that is not ours."""


def command(python: str, workdir: Path, args: Sequence[str]) -> List[str]:
    """The double's argv: a free port by default (a later ``--port N`` in args wins)."""
    return [
        python,
        "-m",
        "grafana_double",
        "--port",
        "0",
        "--port-file",
        str(workdir / "port"),
        "--pid-file",
        str(workdir / "pid"),
        *args,
    ]


def child_env() -> Dict[str, str]:
    """The caller's environment with this package first on PYTHONPATH."""
    paths = [str(PACKAGE_PARENT)] + [
        p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p
    ]
    return dict(os.environ, PYTHONPATH=os.pathsep.join(paths))


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def _tail(path: Path, lines: int = 20) -> str:
    return "\n".join(_read(path).splitlines()[-lines:])


def cmdline(pid: int) -> List[str]:
    """The process' argv ([] when there is no such process)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        return [part.decode("utf-8", "replace") for part in raw.split(b"\0") if part]
    except FileNotFoundError:
        if Path("/proc/self").exists():
            return []
    except OSError:
        return []
    try:  # no /proc (macOS, BSD): ps
        out = subprocess.run(
            ["ps", "-o", "args=", "-p", str(pid)], capture_output=True, text=True, check=False
        )
    except OSError:
        return []
    return out.stdout.split()


def is_ours(pid: int, workdir: Path) -> bool:
    """True when pid is a live ``grafana_double`` started with workdir's port file."""
    argv = cmdline(pid)
    return "grafana_double" in argv and str(workdir / "port") in argv


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    state = _read(Path(f"/proc/{pid}/stat")).rpartition(")")[2].split()
    return not (state and state[0] == "Z")  # a zombie is gone for our purposes


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def wait_for_port_file(workdir: Path, exited: Any, timeout: float) -> int:
    """Poll for the port file; raise LaunchError (with the log's tail) when the double exits."""
    port_file = workdir / "port"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = _read(port_file)
        if text.isdigit():
            return int(text)
        if exited():
            raise LaunchError(
                f"the double exited before listening; {workdir / 'double.log'}:\n"
                f"{_tail(workdir / 'double.log')}"
            )
        time.sleep(0.02)
    raise LaunchError(
        f"the double wrote no port file within {timeout:g} s; see {workdir / 'double.log'}"
    )


def _url(args: Sequence[str], port: int) -> str:
    scheme = "https" if "--cert" in args else "http"
    sub_path = ""
    for index, arg in enumerate(args[:-1]):
        if arg == "--sub-path":
            sub_path = "/" + args[index + 1].strip("/")
    return f"{scheme}://127.0.0.1:{port}{'' if sub_path == '/' else sub_path}"


class DoubleProcess:
    """One double as a child of this process; a context manager that stops it by PID."""

    def __init__(
        self,
        workdir: Path,
        args: Sequence[str] = (),
        python: str = sys.executable,
        timeout: float = 15.0,
    ) -> None:
        workdir = Path(workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        self.workdir = workdir
        self.args = list(args)
        self.port_file = workdir / "port"
        self.pid_file = workdir / "pid"
        self.stderr_path = workdir / "double.log"
        self.scheme = "https" if "--cert" in self.args else "http"
        with open(self.stderr_path, "wb") as log:
            self.process = subprocess.Popen(
                command(python, workdir, self.args),
                env=child_env(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=str(workdir),
            )
        try:
            self.port = wait_for_port_file(
                workdir, lambda: self.process.poll() is not None, timeout
            )
        except LaunchError:
            self.stop()
            raise

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def url(self) -> str:
        """scheme://127.0.0.1:PORT, without the sub-path (add it yourself, or use api_url)."""
        return f"{self.scheme}://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """The API's base URL, the --sub-path included."""
        return _url(self.args, self.port)

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 10.0) -> int:
        """Signal the child by its PID and reap it; returns its exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise

    def __enter__(self) -> "DoubleProcess":
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.stop()


# --- detached: the command line the test_grafana role calls ----------------------------------


def _running(workdir: Path) -> Optional[Dict[str, Any]]:
    pid_text, port_text = _read(workdir / "pid"), _read(workdir / "port")
    if (
        pid_text.isdigit()
        and port_text.isdigit()
        and _alive(int(pid_text))
        and is_ours(int(pid_text), workdir)
    ):
        return {"pid": int(pid_text), "port": int(port_text)}
    return None


def start_detached(
    workdir: Path, args: Sequence[str], python: str = sys.executable, timeout: float = 30.0
) -> Dict[str, Any]:
    """Start a double that outlives this process (its own session); idempotent per workdir."""
    workdir.mkdir(parents=True, exist_ok=True)
    running = _running(workdir)
    if running:
        return dict(running, changed=False)
    for stale in ("pid", "port"):
        (workdir / stale).unlink(missing_ok=True)
    with open(workdir / "double.log", "wb") as log:
        process = subprocess.Popen(
            command(python, workdir, args),
            env=child_env(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=str(workdir),
            start_new_session=True,
        )
    try:
        port = wait_for_port_file(workdir, lambda: process.poll() is not None, timeout)
    except LaunchError:
        if process.poll() is None:
            process.kill()
            process.wait()
        raise
    return {"pid": process.pid, "port": port, "changed": True}


def stop_detached(workdir: Path, timeout: float = 20.0) -> Dict[str, Any]:
    """SIGTERM the double started for workdir (only that one), wait until it is gone."""
    pid_text, port_text = _read(workdir / "pid"), _read(workdir / "port")
    if not pid_text.isdigit():
        return {"changed": False, "msg": f"no double running for {workdir} (no pid file)"}
    pid = int(pid_text)
    if not _alive(pid):
        for stale in ("pid", "port"):
            (workdir / stale).unlink(missing_ok=True)
        return {"changed": False, "pid": pid, "msg": f"the double (pid {pid}) was not running"}
    if not is_ours(pid, workdir):
        raise LaunchError(
            f"pid {pid} in {workdir / 'pid'} is not a grafana_double started for {workdir}: "
            "not signalled; remove the stale pid file"
        )
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    killed = False
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
        killed = True
        while _alive(pid) and time.monotonic() < deadline + 5:
            time.sleep(0.05)
    if port_text.isdigit():
        while port_open(int(port_text)) and time.monotonic() < deadline + 5:
            time.sleep(0.05)
        if port_open(int(port_text)):
            raise LaunchError(f"port {port_text} is still open after stopping pid {pid}")
    for stale in ("pid", "port"):
        (workdir / stale).unlink(missing_ok=True)
    return {"changed": True, "pid": pid, "killed": killed}


def main(argv: Optional[List[str]] = None) -> int:
    cli = argparse.ArgumentParser(
        prog="python -m grafana_double.launcher",
        description="Start or stop a detached Grafana API double for one state directory.",
    )
    cli.add_argument("action", choices=("start", "stop", "status"))
    cli.add_argument(
        "--dir", required=True, type=Path, help="state directory (pid, port, double.log)"
    )
    cli.add_argument(
        "--timeout", type=float, default=30.0, help="seconds to wait for start or stop"
    )
    cli.epilog = "start --dir DIR -- DOUBLE-OPTIONS: everything after -- goes to the double"
    argv = list(sys.argv[1:] if argv is None else argv)
    args = argv[argv.index("--") + 1 :] if "--" in argv else []
    opts = cli.parse_args(argv[: argv.index("--")] if "--" in argv else argv)
    workdir = opts.dir.resolve()
    try:
        if opts.action == "start":
            result = start_detached(workdir, args, sys.executable, opts.timeout)
        elif opts.action == "stop":
            result = stop_detached(workdir, opts.timeout)
        else:
            running = _running(workdir)
            result = dict(running or {}, running=bool(running), changed=False)
    except LaunchError as err:
        print(json.dumps({"failed": True, "msg": str(err)}))
        return 1
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
