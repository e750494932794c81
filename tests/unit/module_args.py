# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Setting a module's arguments in unit tests, on every supported ansible-core."""

from __future__ import annotations

try:
    from ansible.module_utils.testing import patch_module_args  # ansible-core >= 2.19
except ImportError:  # ansible-core < 2.19
    import contextlib
    import json

    from ansible.module_utils import basic

    @contextlib.contextmanager
    def patch_module_args(args):
        old = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode()
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = old

__all__ = ["patch_module_args"]
