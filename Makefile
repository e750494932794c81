# Entry points for grafana_ops.auth (CONTRIBUTING.md). Everything goes through hacking/gate.sh,
# which creates and refreshes its own venvs (.venv: ansible-core 2.21 + tools; .venv-2.20 and
# .venv-2.19: the older ansible-core releases meta/runtime.yml claims; .venv-release:
# ansible-builder and galaxy-importer).
SHELL := /bin/bash
GATE := hacking/gate.sh

.PHONY: help test changelog build ee importer lint sanity sanity-2.21 sanity-2.20 sanity-2.19 \
	oldest units integration leak-scan molecule double-test sample-repo venv clean demo bench

help:
	@echo "make test          the whole gate: changelog, build, ee, importer, lint, sanity (2.21,"
	@echo "                   2.20, 2.19), units, integration, molecule (2.21, and some on 2.19),"
	@echo "                   double-test, sample-repo; ends with 'N passed, N failed'"
	@echo "make changelog | build | ee | importer | lint | sanity | sanity-2.21 | sanity-2.20 |"
	@echo "     sanity-2.19 | oldest | units | integration | molecule | double-test | sample-repo"
	@echo "                   one step (or group) through the same script"
	@echo "make integration | leak-scan  the integration suite (-vvv, diff, log), then the leak scan"
	@echo "make venv          create/refresh .venv only"
	@echo "make clean         remove the venvs and every test output"

test:
	@bash $(GATE) all

# (ee and importer check the built tarball: the gate adds the build step to them)
changelog build ee importer lint sanity sanity-2.21 sanity-2.20 sanity-2.19 oldest units molecule \
	double-test sample-repo:
	@bash $(GATE) $@

# the leak scan reads the integration run's -vvv output, log and results: always together
integration leak-scan:
	@bash $(GATE) integration leak-scan

demo:
	@bash hacking/demo.sh

bench:
	@bash hacking/gate.sh --setup-only >/dev/null && .venv/bin/python bench/run.py

venv:
	@bash $(GATE) --setup-only

clean:
	rm -rf .venv .venv-2.16 .venv-2.19 .venv-2.20 .venv-release .venv-clients tests/output .ansible .cache .pytest_cache changelogs/.plugin-cache.yaml
	rm -f tests/integration/integration_config.yml grafana_ops-auth-*.tar.gz
	find . -path ./.git -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +
