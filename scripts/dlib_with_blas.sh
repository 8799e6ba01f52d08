#!/usr/bin/env bash
# Replace the venv's dlib-bin wheel by dlib built here with OpenBLAS, for this CPU.
#
#   scripts/dlib_with_blas.sh .venv/bin/python        (run by `make setup`)
#
# Why: dlib-bin (pinned in requirements.lock, prebuilt, no compiler needed) has no BLAS, so
# its face embedding network takes ~85 ms per face on the 2-core development machine; the same
# model from dlib built with OpenBLAS and -march=native takes ~20 ms (docs/BENCHMARKS.md,
# "Analysis throughput"). Same model file, same numbers up to float rounding.
#
# 1. nothing to do when the venv's dlib already has BLAS, or SVIDOK_DLIB=bin;
# 2. needs a C++ compiler, cmake and OpenBLAS (Debian: build-essential cmake libopenblas-dev);
#    without them it says so and keeps dlib-bin: everything works, embeddings are slower;
# 3. the wheel is built once (~9 minutes on 2 cores) from the dlib source release on PyPI and
#    kept per CPU in ~/.cache/svidok/wheels, so a new venv on the same machine installs it in
#    seconds;
# 4. the built dlib is checked (imports, reports BLAS, embeds a face) before it replaces
#    dlib-bin; any failure leaves dlib-bin in place.
set -euo pipefail

PY=${1:?usage: $0 VENV_PYTHON}
DLIB_VERSION=20.0.0
has_blas() { "$PY" -c 'import sys, dlib; sys.exit(0 if dlib.DLIB_USE_BLAS else 1)' 2>/dev/null; }
have_cblas() { for f in /usr/include/cblas.h /usr/include/*/cblas.h /usr/include/openblas/cblas.h; do [ -e "$f" ] && return 0; done; return 1; }
keep_bin() { echo "dlib: keeping the prebuilt dlib-bin (no BLAS; face embeddings ~4x slower): $1" >&2; exit 0; }

[ "${SVIDOK_DLIB:-blas}" = "bin" ] && keep_bin "SVIDOK_DLIB=bin"                              # 1
has_blas && exit 0

command -v cmake >/dev/null || keep_bin "cmake not found (Debian: apt-get install cmake)"        # 2
command -v c++ >/dev/null || keep_bin "no C++ compiler (Debian: apt-get install build-essential)"
have_cblas || keep_bin "OpenBLAS headers not found (Debian: apt-get install libopenblas-dev)"

cpu=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | sha256sum | cut -c1-12 || echo generic)   # 3
tag=$("$PY" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
cache="${XDG_CACHE_HOME:-$HOME/.cache}/svidok/wheels/dlib-$DLIB_VERSION-$tag-blas-$cpu"
if ! ls "$cache"/dlib-*.whl >/dev/null 2>&1; then
    echo "dlib: building dlib $DLIB_VERSION with OpenBLAS for this CPU (once, about 9 minutes on 2 cores)..." >&2
    build=$(mktemp -d)
    trap 'rm -rf "$build"' EXIT
    if ! CXXFLAGS="-march=native" "$PY" -m pip wheel --quiet --no-deps --no-build-isolation --no-binary dlib \
            -w "$build" "dlib==$DLIB_VERSION" >"$build/log" 2>&1; then
        tail -20 "$build/log" >&2
        keep_bin "the build failed (log above)"
    fi
    mkdir -p "$cache"
    mv "$build"/dlib-*.whl "$cache"/
fi

"$PY" -m pip uninstall --quiet --yes dlib-bin                                                  # 4
if "$PY" -m pip install --quiet --no-deps --force-reinstall "$cache"/dlib-*.whl && has_blas && "$PY" - <<'EOF'
import warnings
import numpy as np
import dlib
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import face_recognition_models as frm
encoder = dlib.face_recognition_model_v1(frm.face_recognition_model_location())
vector = np.asarray(encoder.compute_face_descriptor(np.full((150, 150, 3), 128, np.uint8)))
assert vector.shape == (128,) and np.isfinite(vector).all()
EOF
then
    echo "dlib: using dlib $DLIB_VERSION with OpenBLAS ($cache)" >&2
else
    "$PY" -m pip uninstall --quiet --yes dlib || true
    "$PY" -m pip install --quiet --no-deps "$(grep '^dlib-bin==' "$(dirname "$0")/../requirements.lock")"
    rm -rf "$cache"
    keep_bin "the built dlib failed its check"
fi
