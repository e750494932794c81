#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: textfile_metrics
short_description: Write token expiry and diagnose verdicts as Prometheus metrics for node_exporter
version_added: 0.1.0
description:
  - Writes a file in the Prometheus text exposition format (version 0.0.4) that the
    node_exporter textfile collector serves, so that Prometheus can page before tokens lapse
    and when a host's credential stops working.
  - With O(service_account_metrics=true) (the default) it reads every service account and token
    of each organization in O(org_ids) and writes, per token, its expiry time, the seconds
    left on the Grafana server's clock (its C(Date) header, never the host's clock), whether it
    has expired or was revoked and when it was last used; per service account, whether it is
    disabled, its number of tokens and its role.
  - With O(diagnose_results) it writes, per host, the verdict and causes of a
    M(grafana_ops.auth.diagnose) run, how long its probes took and when it ran.
  - Every file also holds C(grafana_ops_metrics_timestamp_seconds) per source, the time of the
    collection, for an alert when the file stops being refreshed. A failed run leaves the
    previous file in place, so that alert is also the one that fires when the job fails.
  - Never a key or a password in a label or a value; the labels are the Grafana instance
    (C(grafana)), the organization (C(org_id)), the service account (C(service_account)), the
    token's name (C(token_name)), the host (C(host)), the verdict and the cause codes, plus
    O(labels).
  - The file is replaced atomically (a temporary file in the same directory, C(fsync), rename),
    so node_exporter never reads half a file.
  - Metric names, types and meanings are listed in the notes; the collection's alert rules
    (playbook C(grafana_ops.auth.alert_rules)) use them.
  - Cost per run with O(service_account_metrics=true), per organization one search request (plus
    one per further page of 1000 accounts) and one token listing per account that has tokens.
author:
  - Grafana Ops contributors (@grafana-ops)
options:
  dest:
    description:
      - The file to write, for example C(/var/lib/node_exporter/textfile_collector/grafana_tokens.prom).
      - node_exporter reads only files whose names end in C(.prom) (a warning says so otherwise).
      - Its directory must exist. A symlink at O(dest) is replaced by the new file.
      - Two files that node_exporter reads must not hold the same series (node_exporter then
        fails the whole textfile collection); write token metrics and diagnose metrics of one
        Grafana either into one file or into two files, one source each.
    type: path
    required: true
  service_account_metrics:
    description:
      - Read the service accounts and tokens of each organization in O(org_ids) and write their
        metrics.
      - V(false) sends no request to Grafana (then only O(diagnose_results) are written, and
        O(url) only names the instance in the C(grafana) label); credentials are then not needed.
    type: bool
    default: true
  org_ids:
    description:
      - The organizations to read, each sent as C(X-Grafana-Org-Id).
      - When omitted, the organization of O(org_id) (or, without it, Grafana's default one).
    type: list
    elements: int
  search:
    description:
      - Only the service accounts whose name, login or email contains this text (Grafana's own
        search, case-insensitive). Without it, every service account.
    type: str
  diagnose_results:
    description:
      - Registered results of M(grafana_ops.auth.diagnose), one per host, for example the
        C(diagnose_result) of every host of a fleet run.
      - A result without a verdict (the diagnose task failed, or the host was unreachable and
        the caller passes an empty result) is written as verdict V(error) with cause
        V(diagnose_failed), so the verdict alert fires for it too.
    type: list
    elements: dict
    default: []
    suboptions:
      host:
        description: The host the result is for (the C(host) label).
        type: str
        required: true
      result:
        description: The registered result of M(grafana_ops.auth.diagnose).
        type: dict
        required: true
      checked_at:
        description:
          - When the diagnose run happened, in seconds since the epoch or as an ISO 8601 time.
          - Default, the time of this module's run (Grafana's clock when
            O(service_account_metrics=true), else the clock of the host that runs the module).
        type: raw
      duration:
        description:
          - Seconds the diagnose run took.
          - Default, the sum of the time every probe took to be answered (its C(elapsed_ms)).
        type: float
      instance:
        description:
          - The C(grafana) label of this host's series, when the host diagnosed another Grafana
            than O(instance) names (for example each host its own C(http://localhost:3000)).
        type: str
  instance:
    description:
      - The value of the C(grafana) label that names the Grafana instance.
      - Default, O(url) without credentials, query string or fragment.
    type: str
  labels:
    description:
      - 'Extra labels put on every series, for example C({env: prod}).'
      - Names must be valid Prometheus label names, must not start with C(__) and must not be
        one of the labels the module sets (C(grafana), C(org_id), C(service_account),
        C(token_name), C(role), C(host), C(verdict), C(cause), C(source)).
    type: dict
    default: {}
  prefix:
    description:
      - The prefix of every metric name. The shipped alert rules expect the default.
    type: str
    default: grafana_ops_
  mode:
    description:
      - Permissions of O(dest). The file holds no secret, and node_exporter (usually its own
        user) must be able to read it.
      - An octal string such as V('0644') (quote it in YAML) or a symbolic mode such as
        V(u=rw,go=r).
    type: raw
    default: '0644'
extends_documentation_fragment:
  - grafana_ops.auth.connection
  - grafana_ops.auth.connection.attributes_action_group
  - ansible.builtin.action_common_attributes
  - ansible.builtin.files
attributes:
  platform:
    support: full
    platforms: posix
    details:
      - Runs wherever Python and C(requests) run; writes O(dest) on the host that runs the
        module (the one whose node_exporter serves it).
  check_mode:
    support: full
    details:
      - Reads from Grafana as usual and reports whether O(dest) would change; nothing is
        written.
  diff_mode:
    support: full
    details:
      - Shows the file before and after (metric lines only; they never hold a secret).
  idempotent:
    description: The file carries the collection time, so every run that writes it changes it.
    support: none
notes:
  - "Metrics (prefix C(grafana_ops_)), per token (labels C(grafana), C(org_id),
    C(service_account), C(token_name)): C(token_expiry_timestamp_seconds) (Unix time, V(+Inf)
    for a token that never expires), C(token_expires_in_seconds) (on Grafana's clock at
    collection time, negative once expired, V(+Inf) for never), C(token_expired) and
    C(token_revoked) (0 or 1), C(token_last_used_timestamp_seconds) (0 when never used)."
  - "Per service account (labels C(grafana), C(org_id), C(service_account)):
    C(service_account_disabled) (0 or 1), C(service_account_tokens) (count) and
    C(service_account_info) (always 1, the role in the C(role) label)."
  - "Per diagnosed host (labels C(grafana), C(host)): C(diagnose_verdict) (1, with the labels
    C(verdict) and C(cause), the most fundamental cause or V(none) when ok), C(diagnose_cause)
    (1 per cause code found, label C(cause)), C(diagnose_duration_seconds) and
    C(diagnose_timestamp_seconds)."
  - "Per source (label C(source), V(service_accounts) or V(diagnose)):
    C(metrics_timestamp_seconds), the time of the collection."
  - Tokens that never expire have the value V(+Inf), not a missing series, so that a
    comparison such as C(grafana_ops_token_expires_in_seconds < 86400) is simply false for them
    and a query can still count them.
seealso:
  - module: grafana_ops.auth.service_account_info
  - module: grafana_ops.auth.diagnose
  - name: node_exporter textfile collector
    description: How node_exporter serves files of metrics.
    link: https://github.com/prometheus/node_exporter#textfile-collector
"""

EXAMPLES = r"""
- name: Token expiry of every service account, for node_exporter
  grafana_ops.auth.textfile_metrics:
    url: https://grafana.example.com
    token: "{{ grafana_admin_token }}"
    dest: /var/lib/node_exporter/textfile_collector/grafana_tokens.prom
    labels:
      env: prod

- name: Two organizations into one file
  grafana_ops.auth.textfile_metrics:
    url: https://grafana.example.com
    url_username: admin
    url_password: "{{ grafana_admin_password }}"
    org_ids: [1, 2]
    dest: /var/lib/node_exporter/textfile_collector/grafana_tokens.prom

- name: Diagnose every host of the play
  grafana_ops.auth.diagnose:
    url: http://localhost:3000
    token_file: /etc/grafana-agent/token
  register: diagnose_result

- name: Write the fleet's verdicts on the monitoring host (no request to Grafana)
  grafana_ops.auth.textfile_metrics:
    url: http://localhost:3000
    service_account_metrics: false
    diagnose_results: >-
      [{% for host in ansible_play_hosts_all %}
      {"host": {{ host | to_json }}, "result": {{ hostvars[host].diagnose_result | default({}) | to_json }}},
      {% endfor %}]
    dest: /var/lib/node_exporter/textfile_collector/grafana_diagnose.prom
  delegate_to: monitoring.example.com
  run_once: true
"""

RETURN = r"""
dest:
  description: The file written (or, in check mode, that would be written).
  returned: always
  type: str
  sample: /var/lib/node_exporter/textfile_collector/grafana_tokens.prom
series:
  description: Number of series (sample lines) in the file.
  returned: always
  type: int
  sample: 42
families:
  description: Names of the metric families in the file.
  returned: always
  type: list
  elements: str
  sample:
    - grafana_ops_metrics_timestamp_seconds
    - grafana_ops_token_expires_in_seconds
service_accounts:
  description: Number of service accounts written.
  returned: always
  type: int
  sample: 3
tokens:
  description: Number of tokens written.
  returned: always
  type: int
  sample: 5
hosts:
  description: Number of diagnosed hosts written.
  returned: always
  type: int
  sample: 0
timestamp:
  description:
    - The collection time written to C(grafana_ops_metrics_timestamp_seconds), as seconds since
      the epoch (Grafana's clock when service accounts were read).
  returned: always
  type: float
  sample: 1767348000.0
"""

from typing import Any, Dict

from ansible_collections.grafana_ops.auth.plugins.module_utils._runner import (
    grafana_module,
    run_module,
)
from ansible_collections.grafana_ops.auth.plugins.module_utils._textfile_metrics import (
    DEFAULT_MODE,
    run,
)


def argument_spec() -> Dict[str, Any]:
    return dict(
        dest=dict(type="path", required=True),
        service_account_metrics=dict(type="bool", default=True),
        org_ids=dict(type="list", elements="int"),
        search=dict(type="str"),
        diagnose_results=dict(
            type="list",
            elements="dict",
            default=[],
            options=dict(
                host=dict(type="str", required=True),
                result=dict(type="dict", required=True),
                checked_at=dict(type="raw"),
                duration=dict(type="float"),
                instance=dict(type="str"),
            ),
        ),
        instance=dict(type="str"),
        labels=dict(type="dict", default={}),
        prefix=dict(type="str", default="grafana_ops_"),
        mode=dict(type="raw", default=DEFAULT_MODE),
    )


def main() -> None:
    module = grafana_module(argument_spec(), supports_check_mode=True, add_file_common_args=True)
    run_module(module, run)


if __name__ == "__main__":
    main()
