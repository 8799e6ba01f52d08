# The two README commands: `make demo` and `make test`. Both set up .venv when missing.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.svidok-setup-done

.PHONY: setup demo test lock clean-venv

setup: $(STAMP)

# 1. a venv on Python 3.11; 2. setuptools<81 (face_recognition_models imports pkg_resources);
# 3. every pinned package from requirements.lock, without resolution (--no-deps), which is
#    also how face-recognition==1.3.0 gets in without pulling and compiling `dlib`;
# 4. Svidok itself, editable.
$(STAMP): requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found (Svidok needs Python 3.11)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=23" "setuptools<81" wheel
	$(BIN)/python -m pip install --quiet --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

demo: setup
	$(BIN)/svidok demo

test: setup
	$(BIN)/python -m pytest -q

# Regenerate the lock from the current venv (after adding a package to pyproject.toml).
lock:
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^-e ' > requirements.lock

clean-venv:
	rm -rf $(VENV)
