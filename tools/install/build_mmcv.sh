#!/usr/bin/env bash
# Build (or reuse) an mmcv 2.1.0 wheel with its compiled ops for the Python/torch in $PYTHON.
#
# Usage: PYTHON=.venv/bin/python bash tools/install/build_mmcv.sh
# Prints the path of the wheel on its last line of stdout.
#
# Why a build: mmseg 1.2.2 and mmagic 1.2.0 reject mmcv 2.2, mmcv-lite has no mmcv.ops,
# and there are no prebuilt 2.1.0 wheels for torch 2.14. torch 2.14's headers need C++20
# while mmcv 2.1.0's setup.py hard-codes -std=c++17, so the sdist's flag is patched.
# The wheel is cached under $CEN_MM_WHEEL_CACHE (default ~/.cache/cen_mm/wheels), keyed on
# the mmcv, torch and Python versions and the build flavour (cpu / cuXY), because pip's own
# cache keys a built wheel on the sdist only and would hand back a wheel built against
# another torch.
set -euo pipefail

PYTHON=${PYTHON:-python}
MMCV_VERSION=$(sed -n 's/^mmcv==\([0-9.]*\).*/\1/p' "$(dirname "$0")/../../requirements/mmcv.txt")
CACHE_ROOT=${CEN_MM_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cen_mm/wheels}

read -r TORCH_VERSION PY_TAG FLAVOUR < <("$PYTHON" - <<'PY'
import sys, torch
flavour = 'cu' + torch.version.cuda.replace('.', '') if torch.cuda.is_available() else 'cpu'
print(torch.__version__.split('+')[0], f'cp{sys.version_info[0]}{sys.version_info[1]}', flavour)
PY
)
KEY="mmcv-${MMCV_VERSION}_torch-${TORCH_VERSION}_${PY_TAG}_${FLAVOUR}_cxx20"
DEST="$CACHE_ROOT/$KEY"

if ls "$DEST"/mmcv-*.whl >/dev/null 2>&1; then
  echo "[build_mmcv] cached wheel found for $KEY" >&2
  ls "$DEST"/mmcv-*.whl | head -n1
  exit 0
fi

echo "[build_mmcv] no cached wheel for $KEY: building mmcv $MMCV_VERSION with ops" >&2
echo "[build_mmcv] this compiles ~77 C++ files and takes ~17-21 minutes on 2 cores (once per machine)" >&2
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
"$PYTHON" -m pip download --quiet --no-deps --no-binary :all: --no-build-isolation \
  "mmcv==$MMCV_VERSION" -d "$WORK" >&2
tar -xzf "$WORK/mmcv-$MMCV_VERSION.tar.gz" -C "$WORK"
SRC="$WORK/mmcv-$MMCV_VERSION"
# The only source change: C++17 -> C++20 (torch >= 2.14 headers refuse older standards).
sed -i 's/-std=c++17/-std=c++20/g' "$SRC/setup.py"
grep -q -- '-std=c++20' "$SRC/setup.py" || { echo "[build_mmcv] could not patch setup.py" >&2; exit 1; }

export MMCV_WITH_OPS=1
export MAX_JOBS=${MAX_JOBS:-$(nproc 2>/dev/null || echo 2)}
if [ "$FLAVOUR" != cpu ]; then
  export FORCE_CUDA=1
fi
mkdir -p "$WORK/dist"
start=$(date +%s)
"$PYTHON" -m pip wheel --no-deps --no-build-isolation -w "$WORK/dist" "$SRC" >&2
echo "[build_mmcv] built in $(( $(date +%s) - start )) s" >&2
mkdir -p "$DEST"
cp "$WORK"/dist/mmcv-*.whl "$DEST/"
ls "$DEST"/mmcv-*.whl | head -n1
