# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of grafana_ops.auth.report_files: write report files on the controller, in process.

No module is sent anywhere: the files are written by the controller itself (a temporary file in
the same directory, then a rename), so a fleet-wide report costs no module start-up.
"""

from __future__ import annotations

import os
import stat
import tempfile
from typing import Any, Dict, List

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_bytes
from ansible.plugins.action import ActionBase

ARGUMENT_SPEC = dict(
    files=dict(
        type="list",
        elements="dict",
        required=True,
        options=dict(
            dest=dict(type="path", required=True),
            content=dict(type="str", required=True),
        ),
    ),
    mode=dict(type="str", default="0644"),
)


def parse_mode(mode: str) -> int:
    """An octal mode string (V(0644)); anything else is refused naming the option."""
    text = str(mode).strip()
    if not text or any(c not in "01234567" for c in text) or len(text) > 4:
        raise ValueError(f"mode must be an octal string such as '0644' (got {mode!r}).")
    return int(text, 8)


def write_files(
    files: List[Dict[str, Any]], mode: int, check_mode: bool = False
) -> List[Dict[str, Any]]:
    """Write each file atomically unless its content and mode are already as wanted."""
    results = []
    for entry in files:
        dest = os.path.abspath(os.path.expanduser(entry["dest"]))
        directory = os.path.dirname(dest)
        if not os.path.isdir(directory):
            raise ValueError(
                f"files[].dest {dest}: the directory {directory} does not exist; create it first."
            )
        if os.path.islink(dest) or (os.path.exists(dest) and not os.path.isfile(dest)):
            raise ValueError(
                f"files[].dest {dest} exists and is not a regular file; remove it or choose another path."
            )
        data = to_bytes(entry["content"], errors="surrogate_or_strict")
        same = False
        if os.path.isfile(dest):
            with open(dest, "rb") as handle:
                same = handle.read() == data and stat.S_IMODE(os.stat(dest).st_mode) == mode
        if not same and not check_mode:
            fd, tmp = tempfile.mkstemp(prefix=".report_files.", dir=directory)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.chmod(tmp, mode)
                os.replace(tmp, dest)
            except BaseException:
                if os.path.exists(tmp):
                    os.unlink(tmp)
                raise
        results.append({"dest": dest, "changed": not same, "size": len(data)})
    return results


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(ARGUMENT_SPEC)

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp  # not used: nothing goes to a remote host
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        try:
            files = write_files(
                args["files"], parse_mode(args["mode"]), check_mode=self._task.check_mode
            )
        except (OSError, ValueError) as err:
            raise AnsibleActionFail(str(err)) from err
        result.update(
            changed=any(f["changed"] for f in files),
            files=files,
            msg=f"{sum(f['changed'] for f in files)} of {len(files)} report file(s) written.",
        )
        return result
