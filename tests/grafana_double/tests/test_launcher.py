"""The launcher (grafana_double.launcher): the one way Python code and the test_grafana role
start and stop the double. Checked from outside: the process table, the port, the files."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

import pytest
from double_support import DOUBLE_ROOT, Client


def launcher(*args: str) -> Dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "grafana_double.launcher", *args],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(DOUBLE_ROOT)),
        timeout=60,
        check=False,
    )
    answer = json.loads(result.stdout)
    assert (result.returncode == 0) != bool(answer.get("failed")), (
        result.returncode,
        result.stdout,
        result.stderr,
    )
    return answer


def cmdline(pid: int) -> List[str]:
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def test_detached_start_is_idempotent_and_stop_leaves_nothing(tmp_path: Path) -> None:
    state = tmp_path / "state"
    first = launcher("start", "--dir", str(state), "--", "--version", "10.4", "--sub-path", "/g")
    assert first["changed"] is True and listening(first["port"])
    assert (state / "pid").read_text().strip() == str(first["pid"])
    assert str(state / "port") in cmdline(first["pid"])
    health = Client(f"http://127.0.0.1:{first['port']}/g").http.get(
        f"http://127.0.0.1:{first['port']}/g/api/health"
    )
    assert health.json()["version"].startswith("10.4")

    again = launcher("start", "--dir", str(state))
    assert (again["changed"], again["pid"], again["port"]) == (False, first["pid"], first["port"])
    assert launcher("status", "--dir", str(state))["running"] is True

    stopped = launcher("stop", "--dir", str(state))
    assert stopped == {"changed": True, "killed": False, "pid": first["pid"]}
    assert not Path(f"/proc/{first['pid']}").exists() or "grafana_double" not in cmdline(
        first["pid"]
    )
    assert not listening(first["port"])
    assert sorted(p.name for p in state.iterdir()) == ["double.log"]
    assert launcher("stop", "--dir", str(state))["changed"] is False


def test_stop_refuses_a_pid_that_is_not_its_double(tmp_path: Path) -> None:
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        tmp_path.joinpath("pid").write_text(f"{other.pid}\n")
        answer = launcher("stop", "--dir", str(tmp_path))
        assert answer["failed"] is True and "not signalled" in answer["msg"]
        assert other.poll() is None  # still alive: never signalled
    finally:
        other.send_signal(signal.SIGTERM)
        other.wait()


def test_a_double_that_cannot_start_is_reported_with_its_log(tmp_path: Path) -> None:
    answer = launcher("start", "--dir", str(tmp_path), "--timeout", "10", "--", "--version", "1.0")
    assert answer["failed"] is True and "invalid choice: '1.0'" in answer["msg"]
    assert not tmp_path.joinpath("pid").exists()


@pytest.mark.parametrize("sub_path", ["", "/grafana"])
def test_in_process_launcher_stops_its_child_by_pid(tmp_path: Path, sub_path: str) -> None:
    from grafana_double.launcher import DoubleProcess  # noqa: PLC0415 - the class under test

    args = ["--sub-path", sub_path] if sub_path else []
    with DoubleProcess(tmp_path, args) as double:
        assert double.api_url == double.url + sub_path
        assert listening(double.port)
        pid, port = double.pid, double.port
    assert double.process.returncode == 0 and not listening(port)
    assert not Path(f"/proc/{pid}").exists() or "grafana_double" not in cmdline(pid)
