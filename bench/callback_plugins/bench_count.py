# Counts module runs for bench/run.py: one per task result, one per loop item, skipped ones not
# counted, controller-only actions (set_fact, debug, assert, includes, meta) not counted.
# Writes {"module_runs": N, "by_action": {...}, "failed": N} to $BENCH_STATS_FILE at the end.
from __future__ import annotations

import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: bench_count
type: aggregate
short_description: count module runs for the grafana_ops.auth benchmarks
description: Counts module executions (loop items included, skips excluded) into a JSON file.
requirements: [BENCH_STATS_FILE set in the environment]
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
}


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_count"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.by_action: dict[str, int] = {}
        self.failed = 0

    def _count(self, result, failed=False):
        action = result._task.action.rsplit(".", 1)[-1]
        if action in CONTROLLER_ONLY:
            return
        self.by_action[action] = self.by_action.get(action, 0) + 1
        self.failed += int(failed)

    @staticmethod
    def _looped(result) -> bool:
        # a looped task reports once per item (counted there) and once as a whole (not counted);
        # a module's own "results" key (service_accounts has one) is no sign of a loop
        task = result._task
        return bool(getattr(task, "loop", None) or getattr(task, "loop_with", None))

    def v2_runner_on_ok(self, result):
        if not self._looped(result):
            self._count(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        if not self._looped(result):
            self._count(result, failed=not ignore_errors)

    def v2_runner_item_on_ok(self, result):
        self._count(result)

    def v2_runner_item_on_failed(self, result):
        self._count(result, failed=True)

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get("BENCH_STATS_FILE")
        if path:
            with open(path, "w", encoding="utf-8") as handle:
                json.dump(
                    {
                        "module_runs": sum(self.by_action.values()),
                        "by_action": self.by_action,
                        "failed": self.failed,
                    },
                    handle,
                )
