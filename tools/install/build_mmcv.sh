#!/usr/bin/env bash
# Build (or reuse) an mmcv 2.1.0 wheel with its compiled ops for the Python/torch in $PYTHON.
#
# Usage: PYTHON=.venv/bin/python bash tools/install/build_mmcv.sh
# Prints the path of the wheel on its last line of stdout.
#
# Why a build: mmseg 1.2.2 and mmagic 1.2.0 reject mmcv 2.2, mmcv-lite has no mmcv.ops,
# and there are no prebuilt 2.1.0 wheels for torch 2.14. torch 2.14's headers need C++20
# while mmcv 2.1.0's setup.py hard-codes -std=c++17, so the sdist's flag is patched.
#
# Stages 1-3 (fetch the sdist, patch it, generate its metadata with this venv's own
# setuptools and torch) ALWAYS run (seconds), so a change that would break the cold build
# (e.g. a setuptools without pkg_resources) fails here even when a cached wheel exists;
# only stage 4, the compile (~15-20 min on 2 cores), is skipped when the cache has the wheel.
# The wheel is cached under $CEN_MM_WHEEL_CACHE (default ~/.cache/cen_mm/wheels), keyed on
# the mmcv, torch and Python versions and the build flavour (cpu / cuXY), because pip's own
# cache keys a built wheel on the sdist only and would hand back a wheel built against
# another torch. The full compiler log is kept next to the cache (build-logs/).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
CONSTRAINTS="$HERE/../../requirements/constraints.txt"
PYTHON=${PYTHON:-python}
MMCV_VERSION=$(sed -n 's/^mmcv==\([0-9.]*\).*/\1/p' "$CONSTRAINTS")
CACHE_ROOT=${CEN_MM_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cen_mm/wheels}
say() { echo "[build_mmcv] $*" >&2; }
# fail STAGE COMMAND FIX
fail() {
  say "FAILED at stage: $1"
  say "  command: $2"
  say "  fix: $3"
  exit 1
}

read -r TORCH_VERSION PY_TAG FLAVOUR < <("$PYTHON" - <<'PY'
import sys, torch
flavour = 'cu' + torch.version.cuda.replace('.', '') if torch.cuda.is_available() else 'cpu'
print(torch.__version__.split('+')[0], f'cp{sys.version_info[0]}{sys.version_info[1]}', flavour)
PY
) || fail "reading the torch version" "$PYTHON -c 'import torch'" \
  "install torch first (tools/install/setup_env.sh does)"
KEY="mmcv-${MMCV_VERSION}_torch-${TORCH_VERSION}_${PY_TAG}_${FLAVOUR}_cxx20"
DEST="$CACHE_ROOT/$KEY"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# 1. fetch the sdist; pip prepares its metadata with the venv's setuptools (no isolation)
say "1/4 fetching the mmcv $MMCV_VERSION sdist"
cmd=("$PYTHON" -m pip download --quiet --no-deps --no-binary :all: --no-build-isolation
     -c "$CONSTRAINTS" "mmcv==$MMCV_VERSION" -d "$WORK")
"${cmd[@]}" >&2 || fail "1/4 fetch the sdist" "${cmd[*]}" \
  "check the network; if the error names pkg_resources, setuptools drifted past 80: run tools/install/setup_env.sh (it re-applies requirements/constraints.txt)"
tar -xzf "$WORK/mmcv-$MMCV_VERSION.tar.gz" -C "$WORK"
SRC="$WORK/mmcv-$MMCV_VERSION"

# 2. the only source change: C++17 -> C++20 (torch >= 2.14 headers refuse older standards)
say "2/4 patching setup.py for C++20"
sed -i 's/-std=c++17/-std=c++20/g' "$SRC/setup.py"
grep -q -- '-std=c++20' "$SRC/setup.py" || fail "2/4 patch" "sed -i s/-std=c++17/-std=c++20/ setup.py" \
  "mmcv's setup.py changed: check the pinned mmcv version in requirements/constraints.txt"

# 3. metadata of the patched source, with the venv's setuptools and torch (as the build runs)
say "3/4 generating the patched source's metadata with the venv's setuptools"
cmd=("$PYTHON" setup.py -q egg_info --egg-base "$WORK")
(cd "$SRC" && MMCV_WITH_OPS=1 "${cmd[@]}" >"$WORK/egg_info.log" 2>&1) || {
  tail -n 20 "$WORK/egg_info.log" >&2
  fail "3/4 metadata of the patched sdist" "(cd mmcv-$MMCV_VERSION && ${cmd[*]})" \
    "if it names pkg_resources, setuptools drifted past 80 (re-run tools/install/setup_env.sh, which re-applies requirements/constraints.txt)"
}

if ls "$DEST"/mmcv-*.whl >/dev/null 2>&1; then
  say "4/4 cached wheel found for $KEY (compile skipped; the stages above passed)"
  ls "$DEST"/mmcv-*.whl | head -n1
  exit 0
fi

# 4. compile, showing ninja's [n/N] steps with the elapsed time
export MMCV_WITH_OPS=1
export MAX_JOBS=${MAX_JOBS:-$(nproc 2>/dev/null || echo 2)}
[ "$FLAVOUR" != cpu ] && export FORCE_CUDA=1
LOGDIR="$CACHE_ROOT/build-logs"
mkdir -p "$LOGDIR" "$WORK/dist"
LOG="$LOGDIR/$KEY.log"
say "4/4 no cached wheel for $KEY: compiling mmcv $MMCV_VERSION with ops ($MAX_JOBS jobs; ~77 C++ files, ~15-20 min on 2 cores, once per machine); full log: $LOG"
SECONDS=0
cmd=("$PYTHON" -m pip wheel -v --no-deps --no-build-isolation -c "$CONSTRAINTS" -w "$WORK/dist" "$SRC")
set +e
"${cmd[@]}" 2>&1 | tee "$LOG" | while IFS= read -r line; do
  if [[ $line =~ ^[[:space:]]*\[([0-9]+)/([0-9]+)\] ]]; then
    n=${BASH_REMATCH[1]}; total=${BASH_REMATCH[2]}
    file=$(grep -oE -- '-c [^ ]+\.(cpp|cu|cc)' <<<"$line" | head -n1 | sed 's/^-c //')
    printf '[build_mmcv] [%s/%s] %3d%% compiled, %dm%02ds elapsed  %s\n' "$n" "$total" \
      $(( 100 * n / total )) $(( SECONDS / 60 )) $(( SECONDS % 60 )) "${file##*/}" >&2
  fi
done
status=${PIPESTATUS[0]}
set -e
if [ "$status" -ne 0 ]; then
  tail -n 30 "$LOG" >&2
  fail "4/4 compile" "${cmd[*]}" \
    "read the compiler error above (full log: $LOG); a C++ standard error means the torch headers changed (check the C++20 patch); for CUDA builds nvcc must match torch's CUDA version"
fi
say "built in ${SECONDS} s"
mkdir -p "$DEST"
# copy then rename: a cache entry is either absent or a complete wheel
for whl in "$WORK"/dist/mmcv-*.whl; do
  cp "$whl" "$DEST/.$(basename "$whl").tmp"
  mv "$DEST/.$(basename "$whl").tmp" "$DEST/$(basename "$whl")"
done
ls "$DEST"/mmcv-*.whl | head -n1
