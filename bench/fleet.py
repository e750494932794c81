#!/usr/bin/env python3
"""Fleet benchmark of grafana_ops.auth (part of make bench, not of make test).

N hosts (default 40; local connection, each with its own key directory), forks 10, A service
accounts (default 44) with one token each; every host uses two keys (tokens name their hosts),
so 2N key files. The collection's playbooks run as users run them (ansible-playbook
grafana_ops.auth.provision / grafana_ops.auth.diagnose) against a fresh Grafana API double and are
compared with hand-written ansible.builtin.uri playbooks over the same hosts:

  provision fresh    grafana_ops.auth.provision (verify on)   vs  uri search/create/token + copy per host
  provision rerun    the same, nothing to change (0 writes)   vs  a one-task uri pass (one GET per host)
  diagnose           grafana_ops.auth.diagnose + JSON + JUnit vs  the same one-task uri pass

Two hosts get a broken key before the diagnose case; the JSON report must name exactly them.
For each case: wall time, task results (module runs, controller-only, skipped), HTTP requests and
writes (the double's request log), ratios. Targets: diagnose <= 1.2x the uri pass; rerun <= 2x
the uri pass with 0 writes.

Usage: bench/fleet.py [--hosts 40] [--accounts 44] [--sweep 10,40,200] [--forks 10]
                      [--repeat 3] [--json FILE] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
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
BROKEN = 2  # hosts whose key is replaced by a wrong one before the diagnose case

sys.path[:0] = [str(BENCH), str(ROOT / "roles" / "test_grafana" / "files")]
from grafana_double.launcher import DoubleProcess  # noqa: E402  pylint: disable=wrong-import-position
from run import ansible_env as run_ansible_env  # noqa: E402  pylint: disable=wrong-import-position


def start_double(work: Path) -> DoubleProcess:
    """The Grafana API double through the collection's one launcher (stopped by its PID)."""
    return DoubleProcess(work / "double", python=str(VENV_BIN / "python"))


def control(url: str, method: str, path: str):
    req = urllib.request.Request(f"{url}/__double__/{path}", method=method)
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read() or b"null")


def write_bed(work: Path, url: str, hosts: int, accounts: int) -> None:
    """Inventory (N local hosts, own key directory each) and the variables of both sides."""
    names = [f"fleet-sa-{i:03d}" for i in range(accounts)]
    host_names = [f"fleet-{i:03d}" for i in range(hosts)]
    uses = {
        h: [names[(2 * i) % accounts], names[(2 * i + 1) % accounts]]
        for i, h in enumerate(host_names)
    }
    inventory = {
        "fleet": {
            "hosts": {},
            "vars": {
                "ansible_connection": "local",
                "ansible_python_interpreter": str(VENV_BIN / "python"),
            },
        }
    }
    for h in host_names:
        key_dir = work / "hosts" / h
        key_dir.mkdir(parents=True)
        inventory["fleet"]["hosts"][h] = {
            "fleet_key_dir": str(key_dir),
            "fleet_keys": uses[h],
            # diagnose: this host's first key, and who it should be (used for the admin-assisted
            # causes when admin credentials are given; the benchmark gives none: read-only)
            "diagnose_token_file": str(key_dir / f"{uses[h][0]}.token"),
            "diagnose_service_account": uses[h][0],
            "diagnose_token_name": uses[h][0],
        }
    (work / "inventory.json").write_text(json.dumps({"all": {"children": inventory}}, indent=1))
    receivers = {n: [h for h in host_names if n in uses[h]] for n in names}
    account_list = [
        {
            "name": n,
            "role": "Viewer",
            "tokens": [
                {
                    "name": n,
                    "ttl": "30d",
                    "rotation_window": "7d",
                    "dest": "{{ fleet_key_dir }}/" + n + ".token",
                    "hosts": receivers[n],
                }
            ],
        }
        for n in names
        if receivers[n]
    ] + [{"name": n, "role": "Viewer"} for n in names if not receivers[n]]
    variables = {
        "fleet_url": url,
        "provision_hosts": "fleet",
        "service_accounts_grafana_url": url,
        "service_accounts_grafana_user": "admin",
        "service_accounts_grafana_password": "admin",
        "service_accounts_list": account_list,
        "diagnose_hosts": "fleet",
        "diagnose_url": url,
        "diagnose_fail_on_problem": False,
        "diagnose_report_json": str(work / "report.json"),
        "diagnose_report_junit": str(work / "report.xml"),
    }
    (work / "vars.json").write_text(json.dumps(variables, indent=1))


def ansible_env(work: Path, forks: int) -> dict:
    """bench/run.py's environment with the fleet's counting callback and forks."""
    return run_ansible_env(work, callback="fleet_count", forks=forks)


def run(work: Path, url: str, playbook: str, forks: int, label: str, expect_rc=(0,)) -> dict:
    """One ansible-playbook run; wall time, task results and the double's requests."""
    stats_file = work / "stats.json"
    stats_file.unlink(missing_ok=True)
    env = ansible_env(work, forks)
    env["FLEET_STATS_FILE"] = str(stats_file)
    control(url, "DELETE", "requests")
    log = work / f"{label}.log"
    argv = [
        str(VENV_BIN / "ansible-playbook"),
        "-i",
        str(work / "inventory.json"),
        "-e",
        f"@{work / 'vars.json'}",
        playbook,
    ]
    start = time.monotonic()
    with open(log, "w") as out:
        proc = subprocess.run(argv, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=str(work))
    wall = time.monotonic() - start
    if proc.returncode not in expect_rc:
        raise RuntimeError(
            f"{label}: {playbook} exited {proc.returncode}; last lines of {log}:\n"
            + "\n".join(log.read_text().splitlines()[-30:])
        )
    stats = json.loads(stats_file.read_text())
    reqs = control(url, "GET", "requests")
    return {
        "wall": round(wall, 2),
        **{
            k: stats[k]
            for k in ("task_results", "module_runs", "controller", "skipped", "changed", "tasks")
        },
        "by_action": stats["by_action"],
        "requests": len(reqs),
        "writes": sum(1 for r in reqs if r["method"] in WRITES),
    }


def check_keys(work: Path, hosts: int) -> list[str]:
    """Every host holds its two keys: 0600, no newline, glsa_ format."""
    problems = []
    inventory = json.loads((work / "inventory.json").read_text())["all"]["children"]["fleet"][
        "hosts"
    ]
    for host, hv in inventory.items():
        for name in hv["fleet_keys"]:
            path = Path(hv["fleet_key_dir"]) / f"{name}.token"
            if not path.exists():
                problems.append(f"{host}: {path.name} missing")
                continue
            data = path.read_text()
            if (
                oct(path.stat().st_mode & 0o777) != "0o600"
                or data.endswith("\n")
                or not data.startswith("glsa_")
            ):
                problems.append(
                    f"{host}: {path.name} mode {oct(path.stat().st_mode & 0o777)} or content wrong"
                )
    return problems


def median(runs: list[dict]) -> dict:
    ordered = sorted(runs, key=lambda r: r["wall"])
    chosen = dict(ordered[len(ordered) // 2])
    chosen["walls"] = [r["wall"] for r in runs]
    chosen["wall"] = round(statistics.median(r["wall"] for r in runs), 2)
    return chosen


def measure(hosts: int, accounts: int, forks: int, repeat: int, keep: bool, start_double) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix=f"grafana-ops-fleet-{hosts}."))
    out: dict = {"hosts": hosts, "accounts": accounts, "forks": forks, "key_files": 2 * hosts}
    doubles = []
    try:
        # baseline first provisioning, on its own double
        base_work = tmp / "baseline"
        base_work.mkdir()
        double = start_double(base_work)
        doubles.append(double)
        write_bed(base_work, double.url, hosts, accounts)
        out["provision_uri"] = run(
            base_work,
            double.url,
            str(BENCH / "playbooks" / "fleet_uri_provision.yml"),
            forks,
            "provision_uri",
        )
        out["provision_uri"]["key_problems"] = len(check_keys(base_work, hosts))
        double.stop()
        doubles.remove(double)

        work = tmp / "collection"
        work.mkdir()
        double = start_double(work)
        doubles.append(double)
        write_bed(work, double.url, hosts, accounts)
        out["provision"] = run(work, double.url, "grafana_ops.auth.provision", forks, "provision")
        problems = check_keys(work, hosts)
        if problems:
            raise RuntimeError("provision: key files wrong: " + "; ".join(problems[:5]))
        out["rerun"] = run(work, double.url, "grafana_ops.auth.provision", forks, "rerun")
        if out["rerun"]["writes"]:
            raise RuntimeError(f"rerun: {out['rerun']['writes']} write requests (must be 0)")

        # break two hosts' keys (a wrong but well-formed key: Grafana answers 401)
        inventory = json.loads((work / "inventory.json").read_text())["all"]["children"]["fleet"][
            "hosts"
        ]
        broken = sorted(inventory)[1 : 1 + BROKEN]
        for host in broken:
            Path(inventory[host]["diagnose_token_file"]).write_text(
                "glsa_" + "x" * 32 + "_00000000"
            )
        passes, diags, modules = [], [], []
        for index in range(repeat):
            passes.append(
                run(
                    work,
                    double.url,
                    str(BENCH / "playbooks" / "fleet_uri_pass.yml"),
                    forks,
                    f"uri_pass_{index}",
                )
            )
            diags.append(
                run(work, double.url, "grafana_ops.auth.diagnose", forks, f"diagnose_{index}")
            )
            modules.append(
                run(
                    work,
                    double.url,
                    str(BENCH / "playbooks" / "fleet_diagnose_module.yml"),
                    forks,
                    f"diagnose_module_{index}",
                )
            )
        out["uri_pass"], out["diagnose"], out["diagnose_module"] = (
            median(passes),
            median(diags),
            median(modules),
        )
        report = json.loads((work / "report.json").read_text())
        named = sorted(h["host"] for h in report["hosts"] if not h["passed"])
        if named != broken:
            raise RuntimeError(f"diagnose report names {named}, expected {broken}")
        out["diagnose"]["report_names_broken_hosts"] = True
        out["diagnose_ratio"] = round(out["diagnose"]["wall"] / out["uri_pass"]["wall"], 2)
        out["rerun_ratio"] = round(out["rerun"]["wall"] / out["uri_pass"]["wall"], 2)
        out["provision_ratio"] = round(out["provision"]["wall"] / out["provision_uri"]["wall"], 2)
        return out
    finally:
        for double in doubles:
            double.stop()
        if keep:
            print(f"   (kept {tmp})")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def show(r: dict) -> None:
    print(
        f"\n== {r['hosts']} hosts, {r['accounts']} accounts, {r['key_files']} key files, forks {r['forks']}"
        f" (load before: {r['load_before']}, after: {r['load_after']})"
    )
    print(
        f"   {'case':34} {'wall s':>7} {'results':>8} {'modules':>8} {'skipped':>8} {'HTTP':>6} {'writes':>7}"
    )
    for key, label in (
        ("provision_uri", "provision fresh, uri + copy"),
        ("provision", "provision fresh, collection"),
        ("rerun", "provision rerun, collection"),
        ("uri_pass", "one-task uri pass (median)"),
        ("diagnose", "diagnose + JSON + JUnit (median)"),
        ("diagnose_module", "diagnose module alone (median)"),
    ):
        c = r[key]
        print(
            f"   {label:34} {c['wall']:7.2f} {c['task_results']:8d} {c['module_runs']:8d} {c['skipped']:8d}"
            f" {c['requests']:6d} {c['writes']:7d}"
        )
    print(
        f"   diagnose / uri pass: {r['diagnose_ratio']:.2f}x (target <= 1.2x: "
        f"{'MET' if r['diagnose_ratio'] <= 1.2 else 'MISSED'}); "
        f"walls {r['diagnose']['walls']} vs {r['uri_pass']['walls']}"
    )
    print(
        f"   diagnose module alone / uri pass: {r['diagnose_module']['wall'] / r['uri_pass']['wall']:.2f}x (reference)"
    )
    print(
        f"   rerun / uri pass:    {r['rerun_ratio']:.2f}x (target <= 2x with 0 writes: "
        f"{'MET' if r['rerun_ratio'] <= 2 and r['rerun']['writes'] == 0 else 'MISSED'})"
    )
    print(
        f"   provision collection / uri: {r['provision_ratio']:.2f}x (the collection also verifies every new key)"
    )


def main() -> int:
    signal.signal(
        signal.SIGTERM, lambda signum, _frame: (_ for _ in ()).throw(SystemExit(128 + signum))
    )
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=40)
    parser.add_argument("--accounts", type=int, default=44)
    parser.add_argument(
        "--sweep", help="comma-separated host counts, e.g. 10,40,200 (overrides --hosts)"
    )
    parser.add_argument("--forks", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3, help="uri pass / diagnose runs (median)")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument(
        "--keep", action="store_true", help="keep the work directories (logs, reports)"
    )
    args = parser.parse_args()
    counts = [int(n) for n in args.sweep.split(",")] if args.sweep else [args.hosts]
    print(f"grafana_ops.auth fleet benchmark: {os.cpu_count()} CPUs, load {load()}")
    results, failures = [], []
    for hosts in counts:
        before = load()
        r = measure(hosts, args.accounts, args.forks, args.repeat, args.keep, start_double)
        r["load_before"], r["load_after"] = before, load()
        show(r)
        results.append(r)
        if r["diagnose_ratio"] > 1.2:
            failures.append(f"{hosts} hosts: diagnose {r['diagnose_ratio']}x > 1.2x")
        if r["rerun_ratio"] > 2:
            failures.append(f"{hosts} hosts: rerun {r['rerun_ratio']}x > 2x")
    if len(results) > 1:
        print("\n== growth (wall s)")
        for key in (
            "provision_uri",
            "provision",
            "rerun",
            "uri_pass",
            "diagnose",
            "diagnose_module",
        ):
            print(
                f"   {key:14} " + "  ".join(f"{r['hosts']}h {r[key]['wall']:.1f}" for r in results)
            )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    print()
    if failures:
        print("fleet bench: " + "; ".join(failures))
        return 1
    print("fleet bench: every target met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
