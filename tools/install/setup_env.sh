#!/usr/bin/env bash
# Set up (or refresh) the cen_mm environment in .venv at the repository root.
#
#   bash tools/install/setup_env.sh
#
# Installs torch/torchvision, mmengine, mmcv 2.1.0 *with ops* (built once per machine and
# torch version, then cached), mmsegmentation, mmpretrain, mmagic (--no-deps, plus exactly
# what it needs) and cen_mm itself in editable mode. Pins: requirements/*.txt (shared
# with setup.py). Re-running it reuses .venv and the cached mmcv wheel (~1 minute).
#
# Environment: PYTHON (interpreter for the venv, default python3.11 or python3),
# CEN_MM_WHEEL_CACHE (mmcv wheel cache, default ~/.cache/cen_mm/wheels),
# TORCH_INDEX_URL (optional extra index for a specific CUDA build of torch).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
REQ="$ROOT/requirements"
start=$(date +%s)
log() { echo "[setup_env $(( $(date +%s) - start ))s] $*"; }

PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
"$PYTHON" - <<'PY' || { echo "cen_mm needs Python 3.11 (set PYTHON=/path/to/python3.11)" >&2; exit 1; }
import sys
sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)
PY

if [ ! -x .venv/bin/python ]; then
  log "creating virtual environment .venv"
  "$PYTHON" -m venv .venv
else
  log "reusing .venv"
fi
VPY="$ROOT/.venv/bin/python"
PIP=("$VPY" -m pip --disable-pip-version-check)

log "build tools (setuptools<81, wheel, ninja)"
"${PIP[@]}" install -q -r "$REQ/build.txt"

log "torch + torchvision"
if [ -n "${TORCH_INDEX_URL:-}" ]; then
  "${PIP[@]}" install -q -r "$REQ/torch.txt" --extra-index-url "$TORCH_INDEX_URL"
else
  "${PIP[@]}" install -q -r "$REQ/torch.txt"
fi
# numpy<2 before mmcv is built/installed (mmagic needs numpy 1.x).
"${PIP[@]}" install -q 'numpy<2'

if "$VPY" -c "import mmcv, mmcv.ops, sys; sys.exit(mmcv.__version__ != '$(sed -n 's/^mmcv==//p' "$REQ/mmcv.txt")')" 2>/dev/null; then
  log "mmcv with ops already installed"
else
  log "mmcv with ops: looking for a cached wheel (building one takes ~17-21 min)"
  WHEEL=$(PYTHON="$VPY" bash "$ROOT/tools/install/build_mmcv.sh" | tail -n1)
  "${PIP[@]}" install -q --no-deps --force-reinstall "$WHEEL"
fi

log "OpenMMLab stack and runtime requirements"
"${PIP[@]}" install -q -r "$REQ/openmmlab.txt" -r "$REQ/runtime.txt" -r "$REQ/tests.txt"
"${PIP[@]}" install -q --no-deps -r "$REQ/mmagic.txt"

log "cen_mm (editable)"
"${PIP[@]}" install -q --no-deps --no-build-isolation -e "$ROOT"
# A wheel install carries cen_mm-config-scope.pth (registers the `cen_mm::` config scope
# for mmengine, see cen_mm_scope.py); pip's editable mode does not, so add it here.
SITE=$("$VPY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
cp "$ROOT/cen_mm-config-scope.pth" "$SITE/"

log "checking the installation"
"$VPY" - <<'PY'
import mmcv, mmcv.ops, mmengine, mmseg, mmpretrain, torch, torchvision, numpy
import mmagic.models  # noqa: F401  (imports diffusers/transformers: must work)
import cen_mm
from mmcv.ops import nms
boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 10., 10.], [20., 20., 30., 30.]])
keep = nms(boxes, torch.tensor([0.9, 0.8, 0.7]), 0.5)[1]
assert keep.tolist() == [0, 2], keep
print(f'torch {torch.__version__} (cuda available: {torch.cuda.is_available()}), '
      f'torchvision {torchvision.__version__}, numpy {numpy.__version__}, '
      f'mmengine {mmengine.__version__}, mmcv {mmcv.__version__} (ops ok), '
      f'mmseg {mmseg.__version__}, mmpretrain {mmpretrain.__version__}, '
      f'mmagic {mmagic.__version__ if hasattr(mmagic, "__version__") else "1.2.0"}, '
      f'cen_mm {cen_mm.__version__}')
PY
log "done. Activate with: source .venv/bin/activate"
