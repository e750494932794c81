#!/usr/bin/env bash
# This target shares its name with the collection's service_accounts role, and a playbook inside a
# collection resolves the bare role name ansible-test generates to the collection's role. So the
# target is a script that runs its tasks by path (setup_grafana still resolves from the targets).
set -eux
vars=()
if [ -f ../../integration_config.yml ]; then
  vars=(-e @../../integration_config.yml)
fi
ANSIBLE_ROLES_PATH=.. ansible-playbook -i "${INVENTORY_PATH}" runme.yml "${vars[@]}" "$@"
