"""Fixtures: one live double per version profile for the whole session, reset per test."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Dict, Iterator, List

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # whatever --import-mode is in use

from double_support import VERSIONS, Client, DoubleProcess, Spec, spec_path  # noqa: E402


class Launcher:
    """Starts doubles on demand and stops every one of them by PID at the end."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.started: List[DoubleProcess] = []
        self._by_version: Dict[str, DoubleProcess] = {}

    def start(self, *args: str, python: str = "") -> DoubleProcess:
        workdir = self.root / f"double-{len(self.started)}"
        process = (
            DoubleProcess(workdir, list(args), python)
            if python
            else DoubleProcess(workdir, list(args))
        )
        self.started.append(process)
        return process

    def for_version(self, version: str) -> DoubleProcess:
        if version not in self._by_version:
            self._by_version[version] = self.start("--version", version)
        return self._by_version[version]

    def stop_all(self) -> List[int]:
        return [process.stop() for process in self.started]


@pytest.fixture(scope="session")
def launcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Launcher]:
    launcher = Launcher(tmp_path_factory.mktemp("doubles"))
    yield launcher
    codes = launcher.stop_all()
    assert codes == [0] * len(codes), f"a double did not exit cleanly: {codes}"


@pytest.fixture
def grafana(request: pytest.FixtureRequest, launcher: Launcher) -> Client:
    """A freshly reset double; parametrize indirectly with a version (default 12.2)."""
    version = getattr(request, "param", "12.2")
    assert version in VERSIONS
    client = Client(launcher.for_version(version).url, version=version)
    client.reset()
    return client


@pytest.fixture(scope="session")
def spec() -> Spec:
    path = spec_path()
    if not path.exists():
        pytest.skip(f"OpenAPI subset not found at {path} (set GRAFANA_OPENAPI_SUBSET)")
    return Spec(path, pytest.importorskip("jsonschema"))
