# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""report_files writes on the controller: exact content, atomic, mode, idempotent, refusals."""

from __future__ import annotations

import os

import pytest

from ansible_collections.grafana_ops.auth.plugins.action.report_files import parse_mode, write_files


def test_writes_exact_content_with_mode_then_leaves_it_alone(tmp_path):
    dest = tmp_path / "report.json"
    first = write_files([{"dest": str(dest), "content": '{"a": 1}'}], 0o640)
    assert first == [{"dest": str(dest), "changed": True, "size": 8}]
    assert dest.read_bytes() == b'{"a": 1}'  # no newline added
    assert oct(os.stat(dest).st_mode & 0o777) == "0o640"
    assert write_files([{"dest": str(dest), "content": '{"a": 1}'}], 0o640)[0]["changed"] is False
    assert write_files([{"dest": str(dest), "content": '{"a": 1}'}], 0o600)[0]["changed"] is True
    assert oct(os.stat(dest).st_mode & 0o777) == "0o600"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]  # no temporary file left


def test_check_mode_writes_nothing(tmp_path):
    dest = tmp_path / "report.xml"
    assert (
        write_files([{"dest": str(dest), "content": "<x/>"}], 0o644, check_mode=True)[0]["changed"]
        is True
    )
    assert not dest.exists()


def test_refuses_a_missing_directory_and_a_symlink(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        write_files([{"dest": str(tmp_path / "no" / "r.json"), "content": ""}], 0o644)
    target = tmp_path / "target"
    target.write_text("keep")
    (tmp_path / "link").symlink_to(target)
    with pytest.raises(ValueError, match="not a regular file"):
        write_files([{"dest": str(tmp_path / "link"), "content": "x"}], 0o644)
    assert target.read_text() == "keep"


@pytest.mark.parametrize(
    "mode, ok", [("0644", 0o644), ("600", 0o600), ("rw", None), ("0999", None), ("", None)]
)
def test_mode_must_be_octal(mode, ok):
    if ok is None:
        with pytest.raises(ValueError, match="mode must be an octal string"):
            parse_mode(mode)
    else:
        assert parse_mode(mode) == ok
