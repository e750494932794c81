#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, grafana_ops.auth contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: report_files
short_description: Write report files on the controller, without starting a module
version_added: 0.1.0
description:
  - Writes each file of O(files) on the Ansible controller, atomically (a temporary file in the
    same directory, then a rename), with mode O(mode). A file whose content and mode are already
    as wanted is left alone.
  - Implemented entirely as an action plugin that runs in the controller process, so writing a
    fleet-wide report (the C(grafana_ops.auth.diagnose) playbook's JSON and JUnit files) costs no
    module start-up. Use M(ansible.builtin.copy) to write files on managed hosts.
author:
  - Grafana Ops contributors (@grafana-ops)
options:
  files:
    description:
      - The files to write.
    type: list
    elements: dict
    required: true
    suboptions:
      dest:
        description:
          - Path on the controller; its directory must exist. A symlink or anything but a regular
            file at this path is refused.
        type: path
        required: true
      content:
        description:
          - The exact content (no newline is added).
        type: str
        required: true
  mode:
    description:
      - Mode of every file, an octal string such as V('0644').
    type: str
    default: '0644'
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
    details: Reports which files would change and writes nothing.
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
seealso:
  - module: ansible.builtin.copy
  - module: grafana_ops.auth.diagnose
"""

EXAMPLES = r"""
- name: Write the fleet report once, on the controller
  grafana_ops.auth.report_files:
    files:
      - dest: /tmp/diagnose.json
        content: "{{ report | to_nice_json }}"
  run_once: true
"""

RETURN = r"""
files:
  description: One entry per file, in order.
  returned: always
  type: list
  elements: dict
  contains:
    dest:
      description: The absolute path.
      type: str
    changed:
      description: Whether the file was (or in check mode would be) written.
      type: bool
    size:
      description: Size of the content in bytes.
      type: int
msg:
  description: How many files were written.
  returned: always
  type: str
  sample: 2 of 2 report file(s) written.
"""
