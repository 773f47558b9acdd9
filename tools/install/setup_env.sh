#!/usr/bin/env bash
# Set up (or refresh) the cen_mm environment in .venv at the repository root.
#
#   bash tools/install/setup_env.sh
#
# Installs torch/torchvision, mmengine, mmcv 2.1.0 *with ops* (built once per machine and
# torch version, then cached), mmsegmentation, mmpretrain, mmagic (--no-deps, plus exactly
# what it needs) and cen_mm itself in editable mode. Every pip call carries
# `-c requirements/constraints.txt` (the one place for pins, also read by setup.py), so no
# step can move a pinned package (setuptools <81, numpy 1.x, torch 2.14.1, ...).
# Re-running it reuses .venv and the cached mmcv wheel (~1 minute).
#
# Environment: PYTHON (interpreter for the venv, default python3.11 or python3),
# CEN_MM_WHEEL_CACHE (mmcv wheel cache, default ~/.cache/cen_mm/wheels),
# TORCH_INDEX_URL (optional extra index for a specific CUDA build of torch),
# CEN_MM_MIN_FREE_GB (free space the pre-flight check asks for; 0 skips it).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
REQ="$ROOT/requirements"
CONSTRAINTS="$REQ/constraints.txt"
start=$(date +%s)
log() { echo "[setup_env $(( $(date +%s) - start ))s] $*"; }

# run_step NAME FIX CMD...: run CMD; on failure name the step, the command and the fix.
# A failed step changes nothing that an earlier step installed (pins hold on every call),
# so an existing .venv stays usable; re-running the script resumes where it stopped.
run_step() {
  local name=$1 fix=$2
  shift 2
  log "$name"
  if ! "$@"; then
    {
      echo
      echo "[setup_env] FAILED at step: $name"
      echo "[setup_env]   command: $*"
      echo "[setup_env]   fix: $fix"
      echo "[setup_env] Nothing before this step was undone; re-run the script after the fix."
    } >&2
    exit 1
  fi
}

PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
"$PYTHON" - <<'PY' || { echo "[setup_env] FAILED at step: Python version check: cen_mm needs Python 3.11 (fix: set PYTHON=/path/to/python3.11)" >&2; exit 1; }
import sys
sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)
PY
# Pre-flight: a first install needs ~8 GiB free (torch's wheel brings ~4 GB of CUDA libraries);
# fail now, naming the folder, instead of pip's "No space left on device" minutes later.
run_step "free disk space" \
  "make room (old clones' .venv folders are ~6.4 GB each; pytest keeps its last runs in \$TMPDIR/pytest-of-\$USER), point TMPDIR at a larger disk, or set CEN_MM_MIN_FREE_GB=0 to skip this check" \
  "$PYTHON" "$ROOT/tools/install/check_disk.py" "$ROOT/.venv" "${TMPDIR:-/tmp}"

if [ ! -x .venv/bin/python ]; then
  run_step "creating virtual environment .venv" \
    "install the venv module for $PYTHON (Debian: apt-get install python3.11-venv), or remove a half-made .venv" \
    "$PYTHON" -m venv .venv
else
  log "reusing .venv"
fi
VPY="$ROOT/.venv/bin/python"
PIP=("$VPY" -m pip --disable-pip-version-check)
NET_FIX="check the network/package index (pip's message above says which package); re-run the script"

run_step "build tools (setuptools>=77.0.3,<81, wheel, ninja)" "$NET_FIX" \
  "${PIP[@]}" install -q -c "$CONSTRAINTS" -r "$REQ/build.txt"

TORCH_EXTRA=()
[ -n "${TORCH_INDEX_URL:-}" ] && TORCH_EXTRA=(--extra-index-url "$TORCH_INDEX_URL")
# numpy 1.x is installed with torch, before mmcv is built against it (mmagic needs 1.x).
run_step "torch + torchvision (+ numpy 1.x)" \
  "check the network or TORCH_INDEX_URL; the pins are in requirements/constraints.txt" \
  "${PIP[@]}" install -q -c "$CONSTRAINTS" -r "$REQ/torch.txt" numpy "${TORCH_EXTRA[@]}"

MMCV_VERSION=$(sed -n 's/^mmcv==\([0-9.]*\).*/\1/p' "$CONSTRAINTS")
if "$VPY" -c "import mmcv, mmcv.ops, sys; sys.exit(mmcv.__version__ != '$MMCV_VERSION')" 2>/dev/null; then
  log "mmcv $MMCV_VERSION with ops already installed"
else
  # build_mmcv.sh always fetches the sdist, patches it and generates its metadata with this
  # venv's setuptools (seconds), and compiles only when no cached wheel exists, so a change
  # that breaks the cold build also fails a warm run (and CI).
  log "mmcv $MMCV_VERSION with ops: checking the source build, then a cached wheel (compiling takes ~15-20 min on 2 cores)"
  WHEEL=$(PYTHON="$VPY" bash "$ROOT/tools/install/build_mmcv.sh" | tail -n1) || {
    echo "[setup_env] FAILED at step: mmcv $MMCV_VERSION with ops (tools/install/build_mmcv.sh; its message above names the stage and the fix)" >&2
    exit 1
  }
  run_step "installing $(basename "$WHEEL")" "remove the cached wheel ($WHEEL) and re-run the script to rebuild it" \
    "${PIP[@]}" install -q -c "$CONSTRAINTS" --no-deps --force-reinstall "$WHEEL"
fi

run_step "OpenMMLab stack and runtime requirements" "$NET_FIX" \
  "${PIP[@]}" install -q -c "$CONSTRAINTS" -r "$REQ/openmmlab.txt" -r "$REQ/runtime.txt" -r "$REQ/tests.txt"
run_step "mmagic (--no-deps)" "$NET_FIX" \
  "${PIP[@]}" install -q -c "$CONSTRAINTS" --no-deps -r "$REQ/mmagic.txt"

run_step "cen_mm (editable)" "run the script from a complete checkout (setup.py and requirements/ present)" \
  "${PIP[@]}" install -q -c "$CONSTRAINTS" --no-deps --no-build-isolation -e "$ROOT"
# A wheel install carries cen_mm-config-scope.pth (registers the `cen_mm::` config scope
# for mmengine, see cen_mm_scope.py); pip's editable mode does not, so add it here.
SITE=$("$VPY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
cp "$ROOT/cen_mm-config-scope.pth" "$SITE/"

run_step "checking the installation (pins, mmcv ops, imports)" \
  "the message above names the package; re-run the script (it re-installs the pinned versions)" \
  "$VPY" "$ROOT/tools/install/check_env.py" "$CONSTRAINTS"
log "done. Activate with: source .venv/bin/activate"
