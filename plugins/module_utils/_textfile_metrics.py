# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``textfile_metrics`` module: token expiry and diagnose verdicts as Prometheus metrics.

:func:`run` is the module's logic.  Pure formatting in the Prometheus text exposition
format 0.0.4 (``# HELP`` and ``# TYPE`` lines, label values escaped, families and series
sorted, so the same input always gives the same bytes), the builders that turn Grafana's
token listings and registered ``diagnose`` results into metric families, and the atomic write
of the file a node_exporter textfile collector reads.

Nothing here ever sees a key: the token listings of Grafana's API carry none, and a
``diagnose`` result is reduced to its verdict, cause codes and probe times.

Time: every "seconds until expiry" is computed against ``now``, which the module takes from
the Grafana server's ``Date`` header (``GrafanaClient.now()``), never the host's clock.
"""

from __future__ import annotations

import datetime as _dt
import math
import os
import re
import tempfile
import time
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from ansible_collections.grafana_ops.auth.plugins.module_utils._client import (
    GrafanaClient,
    safe_url,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._delivery import write_synced
from ansible_collections.grafana_ops.auth.plugins.module_utils._errors import GrafanaInputError
from ansible_collections.grafana_ops.auth.plugins.module_utils._sa_api import (
    account_tokens,
    iter_service_accounts,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._token_status import (
    is_expired,
    parse_time,
    seconds_left,
)

PREFIX = "grafana_ops_"
CONTENT_TYPE = "text/plain; version=0.0.4"
DEFAULT_MODE = "0644"
VERDICTS = ("ok", "authentication", "authorization", "proxy", "connectivity")


# what a host whose diagnose run failed (no verdict) is reported as
ERROR_VERDICT = "error"
ERROR_CAUSE = "diagnose_failed"
NO_CAUSE = "none"
SOURCE_SERVICE_ACCOUNTS = "service_accounts"
SOURCE_DIAGNOSE = "diagnose"

# The labels the module sets itself; ``labels`` may not reuse them.
GRAFANA_LABEL = "grafana"
RESERVED_LABELS = frozenset(
    (
        GRAFANA_LABEL,
        "org_id",
        "service_account",
        "token_name",
        "role",
        "host",
        "verdict",
        "cause",
        "source",
    )
)
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")

# name (without PREFIX): (type, help)
FAMILIES: Dict[str, Tuple[str, str]] = {
    "token_expiry_timestamp_seconds": (
        "gauge",
        "Unix time at which the Grafana service-account token expires (+Inf: never expires).",
    ),
    "token_expires_in_seconds": (
        "gauge",
        "Seconds until the token expires on the Grafana server's clock at collection time "
        "(negative once expired, +Inf: never expires).",
    ),
    "token_expired": ("gauge", "1 if the token has expired on the Grafana server's clock, else 0."),
    "token_revoked": (
        "gauge",
        "1 if Grafana marked the token revoked (for example by secret scanning), else 0.",
    ),
    "token_last_used_timestamp_seconds": (
        "gauge",
        "Unix time Grafana last saw the token used (0: never used).",
    ),
    "service_account_disabled": ("gauge", "1 if the service account is disabled, else 0."),
    "service_account_tokens": ("gauge", "Number of tokens the service account has."),
    "service_account_info": ("gauge", "Always 1; the service account's role is in the role label."),
    "diagnose_verdict": (
        "gauge",
        "1 for the host's diagnose verdict (label verdict) and its most fundamental cause "
        "(label cause, none when ok).",
    ),
    "diagnose_cause": ("gauge", "1 for each cause code the host's diagnose run found."),
    "diagnose_duration_seconds": (
        "gauge",
        "Seconds the host's diagnose probes took to be answered.",
    ),
    "diagnose_timestamp_seconds": ("gauge", "Unix time of the host's diagnose run."),
    "metrics_timestamp_seconds": (
        "gauge",
        "Unix time the metrics of this source were collected (Grafana's clock for "
        "service_accounts); alert when it stops moving.",
    ),
}

Labels = Dict[str, str]
Sample = Tuple[Labels, float]


# ------------------------------------------------------------------ the module
def run(module: Any, clients: Any) -> Dict[str, Any]:
    """The ``textfile_metrics`` module: read, render, write the file only when it changed."""
    params = module.params
    # without service-account metrics no request is sent, so no credential is needed
    client = clients.connection() if params["service_account_metrics"] else clients.build()
    prefix = check_prefix(params["prefix"])
    base = dict(check_labels(params["labels"]))
    dest = params["dest"]
    if not dest.endswith(".prom"):
        module.warn(
            f"dest {dest} does not end in .prom: the node_exporter textfile collector "
            "reads only *.prom files."
        )
    base[GRAFANA_LABEL] = params["instance"] if params["instance"] else safe_url(client.base_url)
    metrics = MetricSet(prefix)
    counts, stamp, hosts = collect_metrics(metrics, params, clients, client, base)
    text = metrics.render()
    before = read_text(dest)
    changed = write_if_changed(module, dest, before, text)
    result: Dict[str, Any] = {
        "changed": changed,
        "dest": dest,
        "series": metrics.count(),
        "families": metrics.families(),
        "service_accounts": counts["service_accounts"],
        "tokens": counts["tokens"],
        "hosts": hosts,
        "timestamp": stamp,
    }
    if module._diff:
        result["diff"] = {
            "before": before or "",
            "after": text,
            "before_header": dest,
            "after_header": dest,
        }
    return result


def collect_metrics(
    metrics: "MetricSet",
    params: Mapping[str, Any],
    clients: Any,
    client: GrafanaClient,
    base: Dict[str, Any],
) -> Tuple[Dict[str, int], float, int]:
    """Fill ``metrics``; ``(counts, timestamp, hosts)``.  Nothing to write is an input error."""
    counts = {"service_accounts": 0, "tokens": 0}
    if params["service_account_metrics"]:
        listings, now = read_listings(params, clients, client)
        counts = add_service_accounts(metrics, listings, now, base)
        stamp = now.timestamp()
        metrics.add("metrics_timestamp_seconds", dict(base, source=SOURCE_SERVICE_ACCOUNTS), stamp)
    else:
        stamp = float(int(time.time()))
    hosts = 0
    if params["diagnose_results"]:
        hosts = add_diagnose(metrics, params["diagnose_results"], stamp, base)
        metrics.add("metrics_timestamp_seconds", dict(base, source=SOURCE_DIAGNOSE), stamp)
    if not metrics.count():
        raise GrafanaInputError(
            "nothing to write: service_account_metrics is false and diagnose_results is empty."
        )
    return counts, stamp, hosts


def read_listings(
    params: Mapping[str, Any], clients: Any, client: GrafanaClient
) -> Tuple[List[Listing], Any]:
    """Every selected account of each organization with its tokens, and Grafana's clock."""
    listings: List[Listing] = []
    now = None
    for org_id in params["org_ids"] or [params["org_id"]]:
        if org_id is not None and org_id <= 0:
            raise GrafanaInputError(
                f"org_ids: {org_id} is not an organization id (1 is Grafana's default org)."
            )
        org_client = client if org_id == params["org_id"] else clients.build(org_id=org_id)
        for account in iter_service_accounts(org_client, params["search"]):
            listings.append((org_id, account, account_tokens(org_client, account)))
        now = org_client.now()  # the Date of this org's last answer: Grafana's clock
    return listings, now


def write_if_changed(module: Any, dest: str, before: Optional[str], text: str) -> bool:
    """Write ``text`` atomically when it differs; otherwise fix owner, group and mode only."""
    params = module.params
    if before == text:
        file_args = module.load_file_common_arguments(params, path=dest)
        file_args["mode"] = params["mode"]
        return module.set_fs_attributes_if_different(file_args, False)
    if not module.check_mode:

        def prepare(tmp: str) -> None:
            file_args = module.load_file_common_arguments(params, path=tmp)
            file_args["mode"] = params["mode"]
            module.set_fs_attributes_if_different(file_args, False)

        write_atomic(dest, text, prepare)
    return True


# --------------------------------------------------------------------------- formatting
def escape_label_value(value: str) -> str:
    """Escape ``\\``, ``"`` and newline as the text format requires."""
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def escape_help(text: str) -> str:
    """HELP text escapes only ``\\`` and newline."""
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def format_value(value: float) -> str:
    """``+Inf``/``-Inf``/``NaN`` as the format spells them, integers without ``.0``."""
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(value)


def _label_text(labels: Mapping[str, str]) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{name}="{escape_label_value(str(labels[name]))}"' for name in sorted(labels))
    return "{" + inner + "}"


class MetricSet:
    """Families of samples; :meth:`render` gives the exposition text.

    Series with the same name and labels twice would make node_exporter drop the whole file,
    so :meth:`add` refuses them.
    """

    def __init__(self, prefix: str = PREFIX) -> None:
        self.prefix = prefix
        self.samples: Dict[str, Dict[Tuple[Tuple[str, str], ...], float]] = {}

    def add(self, family: str, labels: Mapping[str, Any], value: float) -> None:
        if family not in FAMILIES:
            raise ValueError(f"unknown metric family {family!r}")
        clean = {str(k): "" if v is None else str(v) for k, v in labels.items()}
        key = tuple(sorted(clean.items()))
        series = self.samples.setdefault(family, {})
        if key in series:
            raise GrafanaInputError(
                f"two series {self.prefix}{family}{_label_text(clean)}: every series must be unique "
                "in the file (is one host, organization or account listed twice?)."
            )
        series[key] = float(value)

    def families(self) -> List[str]:
        return [self.prefix + name for name in sorted(self.samples)]

    def count(self) -> int:
        return sum(len(series) for series in self.samples.values())

    def render(self) -> str:
        lines: List[str] = []
        for family in sorted(self.samples):
            kind, text = FAMILIES[family]
            name = self.prefix + family
            lines.append(f"# HELP {name} {escape_help(text)}")
            lines.append(f"# TYPE {name} {kind}")
            for key in sorted(self.samples[family]):
                lines.append(
                    f"{name}{_label_text(dict(key))} {format_value(self.samples[family][key])}"
                )
        return "\n".join(lines) + "\n" if lines else ""


# --------------------------------------------------------------------------- inputs
def check_labels(labels: Optional[Mapping[str, Any]]) -> Labels:
    """The user's constant labels, checked: valid names, not ours, not ``__``-reserved."""
    result: Labels = {}
    for name, value in (labels or {}).items():
        name = str(name)
        if not _LABEL_NAME.match(name) or name.startswith("__"):
            raise GrafanaInputError(
                f"labels: {name!r} is not a valid Prometheus label name (letters, digits and _, not "
                "starting with a digit or with __)."
            )
        if name in RESERVED_LABELS:
            raise GrafanaInputError(
                f"labels: {name!r} is set by the module itself ({', '.join(sorted(RESERVED_LABELS))}); "
                "choose another name."
            )
        if value is None or isinstance(value, (dict, list)):
            raise GrafanaInputError(
                f"labels: the value of {name!r} must be a string, got {value!r}."
            )
        result[name] = str(value)
    return result


def check_prefix(prefix: str) -> str:
    if not _METRIC_NAME.match(prefix + "x"):
        raise GrafanaInputError(
            f"prefix {prefix!r} cannot start a Prometheus metric name "
            "(letters, digits, _ and :, not starting with a digit)."
        )
    return prefix


def to_epoch(value: Any, option: str) -> float:
    """Seconds since the epoch from a number or an RFC 3339 / ISO 8601 time."""
    if isinstance(value, bool):
        raise GrafanaInputError(f"{option}: {value!r} is not a time.")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            return float(text)
        except ValueError:
            parsed = parse_time(text)
            if parsed is not None:
                return parsed.timestamp()
    raise GrafanaInputError(
        f"{option}: {value!r} is not a time; give seconds since the epoch or an ISO 8601 time such "
        "as 2026-01-02T10:00:00Z."
    )


def _flag(value: Any) -> int:
    return 1 if value else 0


# --------------------------------------------------------------------------- builders
Listing = Tuple[Optional[int], Dict[str, Any], List[Dict[str, Any]]]


def add_service_accounts(
    metrics: MetricSet, listings: Iterable[Listing], now: _dt.datetime, base: Labels
) -> Dict[str, int]:
    """Account and token families from ``(org_id, account, tokens)`` listings.

    ``tokens`` are Grafana's token objects as listed (never a key). ``now`` is Grafana's clock.
    Returns the counts of accounts and tokens written.
    """
    counts = {"service_accounts": 0, "tokens": 0}
    for org_id, account, tokens in listings:
        org = account.get("orgId", org_id)
        account_labels = dict(
            base,
            org_id="" if org is None else str(org),
            service_account=str(account.get("name", "")),
        )
        metrics.add("service_account_disabled", account_labels, _flag(account.get("isDisabled")))
        count = account.get("tokens")
        metrics.add(
            "service_account_tokens",
            account_labels,
            len(tokens) if not isinstance(count, int) or isinstance(count, bool) else count,
        )
        metrics.add(
            "service_account_info", dict(account_labels, role=str(account.get("role") or "")), 1
        )
        counts["service_accounts"] += 1
        for token in tokens:
            labels = dict(account_labels, token_name=str(token.get("name", "")))
            left = seconds_left(token, now)
            expires = parse_time(token.get("expiration"))
            metrics.add(
                "token_expiry_timestamp_seconds",
                labels,
                math.inf if expires is None else expires.timestamp(),
            )
            metrics.add("token_expires_in_seconds", labels, math.inf if left is None else left)
            metrics.add("token_expired", labels, _flag(is_expired(token, now)))
            metrics.add("token_revoked", labels, _flag(token.get("isRevoked")))
            used = parse_time(token.get("lastUsedAt"))
            metrics.add(
                "token_last_used_timestamp_seconds", labels, 0 if used is None else used.timestamp()
            )
            counts["tokens"] += 1
    return counts


def probe_seconds(result: Mapping[str, Any]) -> float:
    """Time the diagnose probes took: the sum of every observation's ``elapsed_ms``."""
    total = 0.0
    for observation in result.get("observations") or ():
        if isinstance(observation, Mapping):
            elapsed = observation.get("elapsed_ms")
            if isinstance(elapsed, (int, float)) and not isinstance(elapsed, bool):
                total += float(elapsed)
    return round(total / 1000.0, 6)


def diagnose_summary(result: Mapping[str, Any]) -> Tuple[str, List[str]]:
    """``(verdict, cause codes)`` of a registered diagnose result; a failed run is ``error``."""
    verdict = result.get("verdict")
    codes = [
        str(c.get("code"))
        for c in result.get("causes") or ()
        if isinstance(c, Mapping) and c.get("code")
    ]
    if not isinstance(verdict, str) or verdict not in VERDICTS:
        return ERROR_VERDICT, codes or [ERROR_CAUSE]
    return verdict, codes


def add_diagnose(
    metrics: MetricSet, items: Sequence[Mapping[str, Any]], default_time: float, base: Labels
) -> int:
    """Host families from ``diagnose_results`` items (``host``, ``result``, ``checked_at``,
    ``duration``, ``instance``: the ``grafana`` label of that host when it differs)."""
    seen: Dict[str, int] = {}
    for index, item in enumerate(items):
        host = str(item.get("host") or "")
        if not host:
            raise GrafanaInputError(
                f"diagnose_results[{index}]: host is empty; name the host the result is for."
            )
        if host in seen:
            raise GrafanaInputError(
                f"diagnose_results[{index}]: host {host!r} is listed twice (also at index {seen[host]}); "
                "give one result per host."
            )
        seen[host] = index
        result = item.get("result") or {}
        if not isinstance(result, Mapping):
            raise GrafanaInputError(
                f"diagnose_results[{index}] (host {host!r}): result must be the registered result of "
                "grafana_ops.auth.diagnose (a dictionary)."
            )
        verdict, codes = diagnose_summary(result)
        labels = dict(base, host=host)
        if item.get("instance"):
            labels[GRAFANA_LABEL] = str(item["instance"])
        metrics.add(
            "diagnose_verdict",
            dict(labels, verdict=verdict, cause=codes[0] if codes else NO_CAUSE),
            1,
        )
        for code in dict.fromkeys(codes):
            metrics.add("diagnose_cause", dict(labels, cause=code), 1)
        duration = item.get("duration")
        metrics.add(
            "diagnose_duration_seconds",
            labels,
            probe_seconds(result) if duration is None else float(duration),
        )
        checked = item.get("checked_at")
        metrics.add(
            "diagnose_timestamp_seconds",
            labels,
            default_time
            if checked in (None, "")
            else to_epoch(checked, f"diagnose_results[{index}].checked_at"),
        )
    return len(items)


# --------------------------------------------------------------------------- file
def read_text(path: str) -> Optional[str]:
    """The current content of ``path``, ``None`` when it does not exist."""
    try:
        with open(path, "r", encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None
    except (UnicodeDecodeError, IsADirectoryError):
        return ""


def write_atomic(path: str, text: str, prepare: Optional[Callable[[str], None]] = None) -> None:
    """Replace ``path`` with ``text``: a temporary file in the same directory, ``fsync``,
    ``prepare(tmp)`` (mode, owner, group), ``rename``, ``fsync`` of the directory.

    A reader (node_exporter) sees the old file or the new one, never a partial one. A symlink
    at ``path`` is replaced by the new file, not written through.
    """
    directory = os.path.dirname(os.path.abspath(path)) or "."
    if not os.path.isdir(directory):
        raise GrafanaInputError(
            f"dest: the directory {directory} does not exist; create it first "
            "(the node_exporter textfile collector directory)."
        )
    if os.path.isdir(path):
        raise GrafanaInputError(f"dest: {path} is a directory; give the path of the .prom file.")
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        try:
            os.fchmod(fd, int(DEFAULT_MODE, 8))
            write_synced(fd, text)
        finally:
            os.close(fd)
        if prepare is not None:
            prepare(tmp)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)
