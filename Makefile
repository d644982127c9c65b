# qsr-platform: two commands on a fresh machine — `make run` (the platform, embedded mode)
# and `make test` (installs everything, builds or reuses the real stack, runs every tier).
PY      ?= python3.11
VENV    := .venv
BIN     := $(VENV)/bin
export QSR_CACHE ?= $(HOME)/.cache/qsr-platform
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: run test check fmt cluster stack deps lock venv crds clean iac-venv iac-lock tofu-fmt

$(VENV)/.installed: pyproject.toml requirements/lock.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check uv==0.13.8
	$(BIN)/uv pip install -q --python $(BIN)/python --require-hashes -r requirements/lock.txt
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .
	touch $@

venv: $(VENV)/.installed

# checkov lives in its own venv from its own lock: its dependency tree conflicts with ours.
.venv-iac/.installed: requirements/iac-lock.txt $(VENV)/.installed
	$(PY) -m venv .venv-iac
	$(BIN)/uv pip install -q --python .venv-iac/bin/python --require-hashes -r requirements/iac-lock.txt
	touch $@

iac-venv: .venv-iac/.installed

iac-lock: venv
	$(BIN)/uv pip compile -q requirements/iac.in --python-version 3.11 --generate-hashes -o requirements/iac-lock.txt

## canonical HCL formatting with OpenTofu built from the Go proxy (also a test in make test)
tofu-fmt:
	bash hack/tofu/build.sh
	TF_CLI_CONFIG_FILE=/dev/null $(QSR_CACHE)/bin/tofu fmt -check -recursive terraform/

## the platform on its embedded default (SQLite, in-process events, examples/*.yaml)
run: venv
	$(BIN)/qsr run

## every test tier against the real stack (installs system packages and builds what is missing)
test: venv iac-venv deps stack
	$(BIN)/pytest

## ruff + mypy --strict + import-linter, identical locally and in CI
check: venv
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy operator/qsr_operator services devstack/qsr_devstack tests bench
	$(BIN)/lint-imports

fmt: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## the local cluster mode: real stack + CRDs + operator + examples
cluster: venv deps stack
	$(BIN)/qsr dev cluster

deps:
	bash hack/install-system-deps.sh

stack: deps
	bash hack/build-stack.sh

## regenerate crds/ from the spec models
crds: venv
	$(BIN)/qsr dev crds --write
	cp crds/*.yaml charts/qsr-platform/crds/

lock: venv
	$(BIN)/uv pip compile -q pyproject.toml --extra dev --python-version 3.11 --generate-hashes -o requirements/lock.txt

clean:
	rm -rf $(VENV) .venv-iac .mypy_cache .ruff_cache .pytest_cache
