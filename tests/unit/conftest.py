# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures shared by every unit test: the one fake Grafana, and a module run against it.

* ``grafana``: an empty :class:`~grafana_fake.FakeGrafana` (one org, no accounts yet);
* ``grafana_session``: the same fake answering every ``requests.Session`` of the process,
  for tests that run a module's ``main()`` (which builds its own client);
* ``run_module``: ``run_module(module, args)`` runs ``module.main()`` with the connection
  options plus ``args`` and returns ``(exit code, result)``.

Every test runs modules as on a target host (``module_side``, autouse).
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Tuple

import pytest
import requests
from ansible.module_utils import _internal

from ansible_collections.grafana_ops.auth.tests.unit.grafana_fake import FakeGrafana
from ansible_collections.grafana_ops.auth.tests.unit.toolkit import CONNECTION, run_main


@pytest.fixture(autouse=True)
def module_side(monkeypatch: Any) -> None:
    """Importing controller code (the action plugin's tests do) flags the process as the
    controller, and module warnings would then go to the controller's display instead of the
    result; a module under test runs as on a target host."""
    monkeypatch.setattr(_internal, "is_controller", False, raising=False)


@pytest.fixture
def grafana() -> FakeGrafana:
    return FakeGrafana()


@pytest.fixture
def grafana_session(monkeypatch: Any, grafana: FakeGrafana) -> FakeGrafana:
    monkeypatch.setattr(
        requests.Session,
        "request",
        lambda _self, method, url, **kw: grafana.request(method, url, **kw),
    )
    return grafana


@pytest.fixture
def run_module(capsys: Any) -> Callable[..., Tuple[int, Dict[str, Any]]]:
    def run(
        module: Any, args: Dict[str, Any], connection: bool = True
    ) -> Tuple[int, Dict[str, Any]]:
        base = CONNECTION if connection else {"url": CONNECTION["url"]}
        return run_main(module, {**base, **args}, capsys)

    return run
