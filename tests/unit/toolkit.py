# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers of the unit tests that are not fixtures (those are in ``conftest.py``).

* :func:`patch_module_args` sets a module's arguments on every supported ansible-core;
* :func:`run_main` runs a module's ``main()`` and returns its exit code and result;
* :func:`parse_metrics` and :func:`promtool_check` read Prometheus exposition text.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from typing import Any, Dict, Tuple

import pytest

try:
    from ansible.module_utils.testing import patch_module_args  # ansible-core >= 2.19
except ImportError:  # ansible-core < 2.19
    import contextlib

    from ansible.module_utils import basic

    @contextlib.contextmanager
    def patch_module_args(args):
        old = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode()
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = old


CONNECTION = {
    "url": "http://127.0.0.1:3000",
    "url_username": "admin",
    "url_password": "admin-secret",
}
PROMTOOL = shutil.which("promtool") or (
    "/usr/bin/promtool" if os.access("/usr/bin/promtool", os.X_OK) else None
)


def run_main(module: Any, args: Dict[str, Any], capsys: Any) -> Tuple[int, Dict[str, Any]]:
    """Run ``module.main()`` with ``args``; return (exit code, result dict)."""
    with patch_module_args(args), pytest.raises(SystemExit) as caught:
        module.main()
    return caught.value.code, json.loads(capsys.readouterr().out)


def parse_metrics(text: str) -> Dict[Any, float]:
    """{(name, frozenset(labels)): value} from exposition text (our own output only)."""
    samples = {}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        head, value = line.rsplit(" ", 1)
        name, _sep, labels = head.partition("{")
        pairs = {}
        if labels:
            for part in labels.rstrip("}").split('",'):
                key, _sep, val = part.partition('="')
                pairs[key] = val.rstrip('"')
        samples[(name, frozenset(pairs.items()))] = float(value)
    return samples


def promtool_check(text: str, tmp_path: Any) -> None:
    """``promtool check metrics`` accepts ``text`` (skipped where promtool is not installed)."""
    if PROMTOOL is None:
        return
    path = tmp_path / "check.prom"
    path.write_text(text, encoding="utf-8")
    with open(path, "rb") as handle:
        done = subprocess.run(
            [PROMTOOL, "check", "metrics"], stdin=handle, capture_output=True, check=False
        )
    assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()
