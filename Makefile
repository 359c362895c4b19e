# Developer entry points. `make test` is the one command that runs the whole test suite; CI
# (.ci/run) calls exactly it on a fresh clone.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export XDG_CACHE_HOME ?= $(HOME)/.cache
export PIP_CACHE_DIR ?= $(XDG_CACHE_HOME)/kubeheat/pip

.PHONY: test venv cluster-bin lint typecheck pytest bench clean

test: venv cluster-bin lint typecheck pytest

# The virtualenv with kubeheat and its test tools. The stamp, not bin/kubeheat, says the test
# extras are in: tools/demo makes a virtualenv with kubeheat alone, which this completes.
STAMP := $(VENV)/.kubeheat-test-extras

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

venv: $(STAMP)

# Builds kube-apiserver, etcd, kube-controller-manager and helm from the Go module proxy, once
# per version, into $(XDG_CACHE_HOME)/kubeheat/bin/ (linked from .cache/bin); later runs only
# check them.
cluster-bin:
	bash tools/testcluster/build.sh

# ruff (style, and the complexity gate) and the import contracts of pyproject.toml
lint: venv
	$(BIN)/ruff check operator tests bench
	$(BIN)/lint-imports --no-cache

typecheck: venv
	$(BIN)/mypy

pytest: venv
	$(BIN)/python -m pytest -q -p no:cacheprovider

# -P: bench/operator.py must not shadow the standard library's operator module
bench: venv
	$(BIN)/python -P bench/parse_validate.py
	$(BIN)/python -P bench/engine.py
	$(BIN)/python -P bench/startup.py
	$(BIN)/python -P bench/limits_size.py
	$(BIN)/python -P bench/limits_cpu.py

clean:
	rm -rf $(VENV) .cache .mypy_cache .ruff_cache .pytest_cache

# Pins pyproject.toml's runtime dependencies (and the build backend the image builds kubeheat
# with) with hashes into requirements.lock, which the Dockerfile installs with --require-hashes.
# Resolved for this interpreter's Python: keep it equal to the Dockerfile's PYTHON_VERSION.
.PHONY: lock
lock: venv
	CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile --quiet --generate-hashes \
		--allow-unsafe --strip-extras --no-emit-find-links --no-emit-index-url \
		--build-deps-for=wheel --output-file=requirements.lock pyproject.toml
