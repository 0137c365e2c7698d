# ndap-infra: every command the README uses.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Policy linters live in their own venv: checkov pins an old boto3 that clashes with ours.
TOOLS := .venv-tools
CONFIG ?= examples/reference.yaml
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CHECKPOINT_DISABLE := 1
export DISABLE_VERSION_CHECK := 1

.PHONY: all setup lock build deploy probe destroy emulator-stop test test-fast test-slow lint format typecheck resources schema bench bench-deploy check-pythons cdktf-synth clean

## all: set up everything, run the main job on the reference example, deploy it onto the
## local emulator and probe it
all: setup build deploy probe

## setup: virtualenv with pinned Python dependencies, and the pinned cdktf CLI
setup: $(VENV)/.installed node_modules/.installed $(TOOLS)/.installed

# The runtime and the linters from their hashed locks (every requirement, transitive too,
# at one version and checked by sha256), the same locks a platform repository installs.
LOCKS := ndap_infra/bootstrap/locks
$(VENV)/.installed: pyproject.toml $(LOCKS)/runtime.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade 'pip==25.3'
	$(BIN)/pip install --quiet --require-hashes -r $(LOCKS)/runtime.txt
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

$(TOOLS)/.installed: $(LOCKS)/tools.txt
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --require-hashes -r $(LOCKS)/tools.txt
	touch $@

## lock: pin and hash every runtime and linter requirement again (after changing the pins
## in pyproject.toml or requirements-tools.txt); a platform repository installs these
lock: setup
	$(BIN)/uv pip compile pyproject.toml --generate-hashes --universal --python-version 3.11 \
		--custom-compile-command "make lock" --quiet -o $(LOCKS)/runtime.txt
	$(BIN)/uv pip compile requirements-tools.txt --generate-hashes --universal \
		--python-version 3.11 --custom-compile-command "make lock" --quiet -o $(LOCKS)/tools.txt

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

## build: validate the config, synthesize all stacks, write policies/, terraform validate
build: setup
	$(BIN)/ndap build --config $(CONFIG)

## deploy: deploy the platform (deploy.target local: onto the emulator ndap starts)
deploy: setup
	$(BIN)/ndap deploy --config $(CONFIG) --no-synth

## probe: behavioural probes against the running emulator (expected vs observed)
probe: setup
	$(BIN)/ndap probe --config $(CONFIG)

## destroy: destroy the platform (deletion-protected resources are kept)
destroy: setup
	$(BIN)/ndap destroy --config $(CONFIG) --no-synth

## emulator-stop: stop the local emulator (everything deployed into it is gone)
emulator-stop: setup
	$(BIN)/ndap emulator stop

# Test tiers (docs/testing.md): the fast tier in parallel, then the emulator and scale tiers.
FAST := not deploy and not scale
SLOW := deploy or scale
WORKERS ?= auto

## test-fast: the fast tier: unit, synthesis, proofs, linters, terraform validate (minutes)
test-fast: setup
	$(BIN)/python -m pytest -m "$(FAST)" -n $(WORKERS) --dist loadgroup --durations=25

## test-slow: the emulator tier (deploys onto the local emulator) and the scale tier
test-slow: setup
	$(BIN)/python -m pytest -m "$(SLOW)" -n $(WORKERS) --dist loadgroup --durations=25 -rfE

## test: every tier, the fast one first (what CI runs)
test: test-fast test-slow

## lint: ruff (lint + format check) and mypy on the hand-written code
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## resources: regenerate the typed resource classes from the pinned provider's schema
resources: setup
	$(BIN)/python -m ndap_infra.codegen

## schema: regenerate the configuration's JSON Schema and its reference, docs/configuration.md
schema: setup
	$(BIN)/ndap schema
	$(BIN)/python -m ndap_infra.config.reference

## wheel: build the versioned ndap-infra wheel into dist/ (what a platform repository pins)
wheel: setup
	$(BIN)/python -c "from pathlib import Path; from ndap_infra.deploy.build_image import build_wheel; print(build_wheel(Path('dist'), Path('build/wheel-source')))"

## bench: print synthesis and terraform figures
bench: setup
	$(BIN)/python bench/synth_bench.py

## check-pythons: install and synthesize the reference on Python 3.12 and 3.13 (minutes;
## each stack must match 3.11's checksum)
check-pythons: setup
	$(BIN)/python tools/check_pythons.py

## bench-deploy: print deploy and no-change plan figures on the emulator (reference, 100 projects)
bench-deploy: setup
	$(BIN)/python bench/deploy_bench.py

## cdktf-synth: synthesize through the pinned cdktf CLI
cdktf-synth: setup
	$(BIN)/ndap cdktf synth

clean:
	rm -rf cdktf.out .ndap .pytest_cache .mypy_cache .ruff_cache
