"""Check diagnose.yml's fleet reports: the JSON against its JSON Schema (jsonschema), the JUnit
XML with junitparser (a real JUnit parser), both against the expected verdict of every host, and
neither holding a key. Prints one JSON line; exits non-zero naming every problem.

usage: check_reports.py SCHEMA REPORT.json REPORT.xml EXPECTED_JSON SECRETS_FILE
  EXPECTED_JSON  {"host": "ok" | "<verdict>:<cause code>" | "no_result", ...}
  SECRETS_FILE   file with one key per line that must appear in neither report
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import jsonschema
from junitparser import Error, Failure, JUnitXml


def main(schema_path: str, json_path: str, xml_path: str, expected_text: str, secrets_path: str) -> int:
    problems: list[str] = []
    expected = json.loads(expected_text)
    schema = json.loads(Path(schema_path).read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    report = json.loads(Path(json_path).read_text())
    for error in jsonschema.Draft202012Validator(schema).iter_errors(report):
        problems.append(f"schema: {'/'.join(map(str, error.absolute_path))}: {error.message}")
    hosts = {h["host"]: h for h in report.get("hosts", [])}
    if sorted(hosts) != sorted(expected):
        problems.append(f"JSON hosts {sorted(hosts)} != {sorted(expected)}")
    for host, want in expected.items():
        got = hosts.get(host, {})
        verdict, _sep, code = want.partition(":")
        if got.get("verdict") != verdict:
            problems.append(f"JSON {host}: verdict {got.get('verdict')} != {verdict}")
        if code and code not in [c["code"] for c in got.get("causes", [])]:
            problems.append(f"JSON {host}: cause {code} missing")
        if verdict == "ok" and not got.get("timings", {}).get("probes"):
            problems.append(f"JSON {host}: no probe timings")
    summary = report.get("summary", {})
    if summary.get("ok") != sum(1 for w in expected.values() if w == "ok"):
        problems.append(f"JSON summary ok {summary.get('ok')} wrong")

    suites = JUnitXml.fromfile(xml_path)
    cases = {case.name: case for suite in suites for case in suite}
    if sorted(cases) != sorted(expected):
        problems.append(f"JUnit test cases {sorted(cases)} != {sorted(expected)}")
    for host, want in expected.items():
        case = cases.get(host)
        if case is None:
            continue
        results = list(case.result)
        verdict, _sep, code = want.partition(":")
        if verdict == "ok":
            if not case.is_passed:
                problems.append(f"JUnit {host}: not passed: {[r.message for r in results]}")
        elif verdict == "no_result":
            if not any(isinstance(r, Error) for r in results):
                problems.append(f"JUnit {host}: no error element")
        else:
            failures = [r for r in results if isinstance(r, Failure)]
            if not failures or f"verdict {verdict}" not in (failures[0].message or "") \
                    or code not in (failures[0].message or ""):
                problems.append(f"JUnit {host}: failure {[r.message for r in failures]} lacks verdict {verdict} / {code}")
    failures_total = sum(suite.failures for suite in suites)
    errors_total = sum(suite.errors for suite in suites)
    want_failures = sum(1 for w in expected.values() if w not in ("ok", "no_result"))
    want_errors = sum(1 for w in expected.values() if w == "no_result")
    if (failures_total, errors_total) != (want_failures, want_errors):
        problems.append(f"JUnit counts failures/errors {failures_total}/{errors_total} != {want_failures}/{want_errors}")

    texts = Path(json_path).read_text() + Path(xml_path).read_text()
    for secret in Path(secrets_path).read_text().split():
        if secret and secret in texts:
            problems.append("a key appears in a report")
    print(json.dumps({"problems": problems, "hosts": len(hosts), "junit_cases": len(cases),
                      "junit_failures": failures_total, "junit_errors": errors_total}))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
