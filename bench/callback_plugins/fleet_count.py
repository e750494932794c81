# Counts task results for bench/fleet.py: every per-host (and per-loop-item) result, split into
# module runs (ok/changed/failed results of actions that start a module), controller-only results
# (set_fact, debug, assert, ...), skips and changes. Writes JSON to $FLEET_STATS_FILE at the end.
from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: fleet_count
type: aggregate
short_description: count task results for the grafana_ops.auth fleet benchmark
description: Counts task results (loop items included) into the JSON file named by FLEET_STATS_FILE.
requirements: [FLEET_STATS_FILE set in the environment]
"""

CONTROLLER_ONLY = {
    "set_fact",
    "debug",
    "assert",
    "fail",
    "meta",
    "include_tasks",
    "import_tasks",
    "include_role",
    "import_role",
    "include_vars",
    "pause",
    "add_host",
    "group_by",
    "validate_argument_spec",
}


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "fleet_count"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.stats = {
            "task_results": 0,
            "module_runs": 0,
            "controller": 0,
            "skipped": 0,
            "changed": 0,
            "failed": 0,
            "tasks": 0,
            "by_action": {},
            "task_seconds": [],
        }
        self._current = None

    @staticmethod
    def _looped(result) -> bool:
        task = result._task
        return bool(getattr(task, "loop", None) or getattr(task, "loop_with", None))

    def _count(self, result, kind: str, item: bool = False) -> None:
        if self._looped(result) and not item and kind != "skipped":
            return  # a loop's summary result: its items were counted
        s = self.stats
        s["task_results"] += 1
        if kind == "skipped":
            s["skipped"] += 1
            return
        action = result._task.action.rsplit(".", 1)[-1]
        if action in CONTROLLER_ONLY:
            s["controller"] += 1
        else:
            s["module_runs"] += 1
            s["by_action"][action] = s["by_action"].get(action, 0) + 1
        s["changed"] += int(bool(result._result.get("changed")))
        s["failed"] += int(kind == "failed")

    def _close_task(self):
        if self._current is not None:
            name, started = self._current
            self.stats["task_seconds"].append([name, round(time.monotonic() - started, 2)])
            self._current = None

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._close_task()
        self.stats["tasks"] += 1
        self._current = (task.get_name(), time.monotonic())

    def v2_playbook_on_play_start(self, play):
        self._close_task()

    def v2_runner_on_ok(self, result):
        self._count(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._count(result, "failed")

    def v2_runner_on_skipped(self, result):
        if self._looped(result) and result._result.get("results"):
            return  # every item was skipped and counted
        self._count(result, "skipped")

    def v2_runner_item_on_ok(self, result):
        self._count(result, "ok", item=True)

    def v2_runner_item_on_failed(self, result):
        self._count(result, "failed", item=True)

    def v2_runner_item_on_skipped(self, result):
        self._count(result, "skipped", item=True)

    def v2_playbook_on_stats(self, stats):
        self._close_task()
        path = os.environ.get("FLEET_STATS_FILE")
        if path:
            with open(path, "w", encoding="utf-8") as handle:
                json.dump(self.stats, handle)
