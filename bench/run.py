#!/usr/bin/env python3
"""Benchmarks of grafana_ops.auth against a hand-written ansible.builtin.uri baseline (make bench).

Every measurement gets a fresh Grafana API double (roles/test_grafana/files/grafana_double) on loopback. For each run
it prints wall time, module runs (counted by bench/callback_plugins/bench_count.py: one per task
result or loop item, skips and controller-only actions excluded) and HTTP requests (the double's
request log, GET /__double__/requests), then the baseline/collection ratios and the targets.

Cases:
  provision  N accounts with one token each, key written to a file (target: >= 10x faster)
  rerun      the same, second run on unchanged state (target: >= 20x faster, zero write requests)
  diagnose   one host, direct + one nginx proxy, vs a single uri task (target: within 1.5x)

  fleet      bench/fleet.py: the playbooks over 10 and 40 hosts (--fleet-sweep) against uri playbooks
             (targets: diagnose <= 1.2x a one-task uri pass, provision rerun <= 2x with zero writes)

Usage: bench/run.py [--count 100] [--repeat 1] [--diagnose-repeat 5] [--impl auto|role|module|loops]
                    [--cases provision,rerun,diagnose,fleet] [--fleet-sweep 10,40] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
VENV_BIN = ROOT / ".venv" / "bin"
WRITES = {"POST", "PUT", "PATCH", "DELETE"}

# the one Python launcher of the Grafana API double, shipped in the collection's test_grafana role
sys.path.insert(0, str(ROOT / "roles" / "test_grafana" / "files"))
from grafana_double.launcher import DoubleProcess  # noqa: E402  pylint: disable=wrong-import-position


class Double:
    """A fresh Grafana API double in its own process, stopped by its PID (the collection's launcher)."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.proc = DoubleProcess(workdir, [], python=str(VENV_BIN / "python"), timeout=30)
        self.port = self.proc.port
        self.url = self.proc.url

    def control(self, method: str, path: str):
        req = urllib.request.Request(f"{self.url}/__double__/{path}", method=method)
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read() or b"null")

    def requests(self) -> list[dict]:
        return self.control("GET", "requests")

    def clear_requests(self) -> None:
        self.control("DELETE", "requests")

    def stop(self) -> None:
        self.proc.stop(timeout=20)


class Nginx:
    """A minimal nginx reverse proxy in front of the double, stopped by its PID."""

    def __init__(self, workdir: Path, upstream_port: int, nginx: str):
        self.dir = workdir / "nginx"
        (self.dir / "tmp").mkdir(parents=True)
        self.port = free_port()
        self.pid_file = self.dir / "nginx.pid"
        d = self.dir
        (d / "nginx.conf").write_text(f"""
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {d}/tmp/body; proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi; uwsgi_temp_path {d}/tmp/uwsgi; scgi_temp_path {d}/tmp/scgi;
    upstream grafana {{ server 127.0.0.1:{upstream_port}; keepalive 4; }}
    server {{
        listen 127.0.0.1:{self.port};
        location / {{
            proxy_pass http://grafana;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
        }}
    }}
}}
""")
        subprocess.run(
            [nginx, "-p", f"{d}/", "-c", str(d / "nginx.conf"), "-e", "stderr"], check=True
        )
        deadline = time.monotonic() + 10
        while not (self.pid_file.exists() and self.pid_file.read_text().strip()):
            if time.monotonic() > deadline:
                raise RuntimeError("nginx did not write its PID file")
            time.sleep(0.05)
        self.pid = int(self.pid_file.read_text().strip())
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and Path(f"/proc/{self.pid}").exists():
            state = (
                Path(f"/proc/{self.pid}/status").read_text()
                if Path(f"/proc/{self.pid}/status").exists()
                else ""
            )
            if "State:\tZ" in state:
                break
            time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ansible_env(work: Path, callback: str = "bench_count", forks: int = 0) -> dict:
    """ansible-playbook's environment: this checkout as the collection, a counting callback."""
    collections = work / "collections" / "ansible_collections" / "grafana_ops"
    collections.mkdir(parents=True, exist_ok=True)
    link = collections / "auth"
    if not link.exists():
        link.symlink_to(ROOT)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(
        PATH=f"{VENV_BIN}:{os.environ.get('PATH', '')}",
        ANSIBLE_COLLECTIONS_PATH=str(work / "collections"),
        ANSIBLE_HOME=str(work / "ansible-home"),
        ANSIBLE_CALLBACK_PLUGINS=str(BENCH / "callback_plugins"),
        ANSIBLE_CALLBACKS_ENABLED=callback,
        ANSIBLE_LOCALHOST_WARNING="false",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_RETRY_FILES_ENABLED="false",
        ANSIBLE_HOST_KEY_CHECKING="false",
    )
    if forks:
        env["ANSIBLE_FORKS"] = str(forks)
    return env


def run_playbook(work: Path, playbook: str, double: Double, extra: dict) -> dict:
    """Run one playbook, return wall time, module runs and the double's request counts."""
    stats_file = work / "stats.json"
    stats_file.unlink(missing_ok=True)
    env = ansible_env(work)
    env["BENCH_STATS_FILE"] = str(stats_file)
    extra = {"bench_url": double.url, "bench_dir": str(work), **extra}
    double.clear_requests()
    log = work / f"{Path(playbook).stem}.log"
    start = time.monotonic()
    with open(log, "w") as out:
        proc = subprocess.run(
            [
                str(VENV_BIN / "ansible-playbook"),
                str(BENCH / "playbooks" / playbook),
                "-e",
                json.dumps(extra),
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    wall = time.monotonic() - start
    if proc.returncode != 0:
        raise RuntimeError(
            f"{playbook} failed (exit {proc.returncode}); last lines of {log}:\n"
            + "\n".join(log.read_text().splitlines()[-25:])
        )
    stats = json.loads(stats_file.read_text())
    reqs = double.requests()
    return {
        "wall": wall,
        "module_runs": stats["module_runs"],
        "by_action": stats["by_action"],
        "requests": len(reqs),
        "writes": sum(1 for r in reqs if r["method"] in WRITES),
    }


def pick_impl(wanted: str) -> str:
    if wanted != "auto":
        return wanted
    # the reconcile module itself: one module run for the whole list (the role adds per-host
    # key delivery and verification around it; measure it with --impl role)
    if (ROOT / "plugins" / "modules" / "service_accounts.py").exists():
        return "module"
    return "loops"


def fresh(tmp: Path, name: str) -> Path:
    work = Path(tempfile.mkdtemp(prefix=f"{name}.", dir=tmp))
    (work / "tokens").mkdir()
    return work


def measure_provision(tmp: Path, playbook: str, count: int, impl: str, rerun: bool) -> dict:
    work = fresh(tmp, Path(playbook).stem)
    double = Double(work)
    try:
        extra = {"bench_count": count, "bench_impl": impl}
        if rerun:
            # the state to rerun on, not measured: built the same way for both sides (same
            # accounts, same token names, same key files) by the faster of the two playbooks
            run_playbook(work, "collection_provision.yml", double, extra)
        result = run_playbook(work, playbook, double, extra)
        keys = list((work / "tokens").glob("*.token"))
        result["key_files"] = len(keys)
        return result
    finally:
        double.stop()
        shutil.rmtree(work, ignore_errors=True)


def measure_diagnose(tmp: Path, playbook: str, nginx: str) -> dict:
    work = fresh(tmp, Path(playbook).stem)
    double = Double(work)
    proxy = None
    try:
        proxy = Nginx(work, double.port, nginx)
        token_file = work / "token"
        token_file.write_text(mint_token(double))
        token_file.chmod(0o600)
        return run_playbook(
            work,
            playbook,
            double,
            {"bench_proxy_url": proxy.url, "bench_token_file": str(token_file)},
        )
    finally:
        if proxy:
            proxy.stop()
        double.stop()
        shutil.rmtree(work, ignore_errors=True)


def mint_token(double: Double) -> str:
    import base64

    auth = "Basic " + base64.b64encode(b"admin:admin").decode()

    def post(path, body):
        req = urllib.request.Request(
            f"{double.url}{path}",
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Authorization": auth, "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())

    account = post("/api/serviceaccounts", {"name": "bench-diagnose", "role": "Viewer"})
    return post(f"/api/serviceaccounts/{account['id']}/tokens", {"name": "bench"})["key"]


def best(results: list[dict]) -> dict:
    """The median run by wall time (counts are the same in every run)."""
    ordered = sorted(results, key=lambda r: r["wall"])
    chosen = dict(ordered[len(ordered) // 2])
    chosen["walls"] = [round(r["wall"], 2) for r in results]
    chosen["wall"] = statistics.median(r["wall"] for r in results)
    return chosen


def ratio(a: float, b: float) -> str:
    if b == 0:
        return "inf" if a else "-"
    return f"{a / b:.1f}x"


def report(name: str, base: dict, coll: dict, verdict: str, note: str) -> None:
    print(f"\n== {name}")
    print(f"   {'':12} {'wall s':>8} {'module runs':>12} {'HTTP requests':>14} {'writes':>7}")
    for label, r in (("baseline", base), ("collection", coll)):
        print(
            f"   {label:12} {r['wall']:8.2f} {r['module_runs']:12d} {r['requests']:14d} {r['writes']:7d}"
        )
    print(
        f"   {'ratio':12} {ratio(base['wall'], coll['wall']):>8} {ratio(base['module_runs'], coll['module_runs']):>12}"
        f" {ratio(base['requests'], coll['requests']):>14}"
    )
    print(f"   {verdict}")
    if note:
        print(f"   {note}")


def _terminate(signum, _frame):
    # turn SIGTERM into an exception so that every finally: stops its double and nginx
    raise SystemExit(128 + signum)


def main() -> int:
    signal.signal(signal.SIGTERM, _terminate)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per provisioning measurement (median)"
    )
    parser.add_argument(
        "--diagnose-repeat", type=int, default=5, help="runs per diagnose measurement (median)"
    )
    parser.add_argument("--impl", default="auto", choices=["auto", "role", "module", "loops"])
    parser.add_argument("--cases", default="provision,rerun,diagnose,fleet")
    parser.add_argument(
        "--fleet-sweep", default="10,40", help="host counts of the fleet case (bench/fleet.py)"
    )
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    impl = pick_impl(args.impl)
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    nginx = shutil.which("nginx") or (
        "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None
    )

    print(
        f"grafana_ops.auth benchmarks: {os.cpu_count()} CPUs, {args.count} accounts, "
        f"collection implementation: {impl}, fresh Grafana API double per measurement"
    )
    results: dict = {"cpus": os.cpu_count(), "count": args.count, "impl": impl}
    failures: list[str] = []
    tmp = Path(tempfile.mkdtemp(prefix="grafana-ops-bench."))
    try:
        for case in ("provision", "rerun"):
            if case not in cases:
                continue
            rerun = case == "rerun"
            base = best(
                [
                    measure_provision(tmp, "baseline_provision.yml", args.count, impl, rerun)
                    for _ in range(args.repeat)
                ]
            )
            coll = best(
                [
                    measure_provision(tmp, "collection_provision.yml", args.count, impl, rerun)
                    for _ in range(args.repeat)
                ]
            )
            speedup = base["wall"] / coll["wall"]
            target = 20 if rerun else 10
            ok = speedup >= target
            verdict = f"target >= {target}x faster: {'MET' if ok else 'MISSED'} ({speedup:.1f}x)"
            if rerun:
                verdict += f"; collection writes on rerun: {coll['writes']} (must be 0)"
                if coll["writes"]:
                    failures.append(f"rerun: the collection sent {coll['writes']} write requests")
            else:
                if coll["key_files"] != args.count or base["key_files"] != args.count:
                    failures.append(
                        f"provision: key files baseline {base['key_files']}, collection {coll['key_files']}"
                    )
            if not ok:
                failures.append(f"{case}: {speedup:.1f}x < {target}x")
            name = (
                f"{'idempotent rerun' if rerun else 'provisioning'}: {args.count} accounts, one token each"
                + (", key to a file" if not rerun else ", nothing to change")
            )
            report(
                name, base, coll, verdict, f"collection module runs by action: {coll['by_action']}"
            )
            results[case] = {
                "baseline": base,
                "collection": coll,
                "speedup": speedup,
                "target": target,
            }

        if "diagnose" in cases:
            if not nginx:
                print("\n== diagnose: SKIPPED (nginx is not installed: apt-get install -y nginx)")
                failures.append("diagnose: skipped, no nginx")
            else:
                base = best(
                    [
                        measure_diagnose(tmp, "diagnose_uri.yml", nginx)
                        for _ in range(args.diagnose_repeat)
                    ]
                )
                coll = best(
                    [
                        measure_diagnose(tmp, "diagnose_collection.yml", nginx)
                        for _ in range(args.diagnose_repeat)
                    ]
                )
                slowdown = coll["wall"] / base["wall"]
                ok = slowdown <= 1.5
                if not ok:
                    failures.append(f"diagnose: {slowdown:.2f}x slower > 1.5x")
                report(
                    "diagnose one host (direct + one nginx proxy) vs a single uri task",
                    base,
                    coll,
                    f"target: collection within 1.5x of the baseline's wall time: {'MET' if ok else 'MISSED'}"
                    f" ({slowdown:.2f}x)",
                    f"wall times of {args.diagnose_repeat} runs: baseline {base['walls']}, collection {coll['walls']}",
                )
                results["diagnose"] = {"baseline": base, "collection": coll, "slowdown": slowdown}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    if "fleet" in cases:
        fleet = subprocess.run(
            [sys.executable, str(BENCH / "fleet.py"), "--sweep", args.fleet_sweep], check=False
        )
        results["fleet_exit"] = fleet.returncode
        if fleet.returncode:
            failures.append("fleet: a target was missed (see above)")

    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str) + "\n")
    print()
    if failures:
        print("bench: " + "; ".join(failures))
        return 1
    print("bench: every target met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
