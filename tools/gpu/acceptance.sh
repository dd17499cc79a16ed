#!/usr/bin/env bash
# GPU acceptance run, on a GPU node with Python 3.12 and its own torch and
# torchvision but no package index, after tools/gpu/prepare.sh on a machine
# with one:
#   bash tools/gpu/acceptance.sh OUT_DIR            # on the GPU node
#   bash tools/gpu/acceptance.sh OUT_DIR --rehearse # the same on a CPU
# Installs the carried wheels (.whl/) into OUT_DIR/site without network,
# prints the environment, then runs tools/gpu/acceptance.py, which writes
# OUT_DIR/gpu_report.{json,md}. PYTHON picks the interpreter: python3, or
# a clone's .venv/bin/python (tools/setup_env.sh) in a rehearsal.
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT= REHEARSE=()
for arg in "$@"; do
  case "$arg" in
    --rehearse) REHEARSE=(--rehearse) ;;
    *) OUT=$arg ;;
  esac
done
[ -n "$OUT" ] || { echo "usage: bash tools/gpu/acceptance.sh [--rehearse] OUT_DIR" >&2; exit 2; }
if [ -z "${PYTHON:-}" ] && [ ${#REHEARSE[@]} -gt 0 ] && [ -x .venv/bin/python ]; then
  PYTHON=.venv/bin/python
fi
PYTHON=${PYTHON:-python3}
mkdir -p "$OUT"
SITE=$(cd "$OUT" && pwd)/site

echo "[acceptance] installing $(ls .whl/*.whl 2>/dev/null | wc -l) wheels into $SITE"
if ! "$PYTHON" -m pip install -q --no-index --no-deps \
    --no-cache-dir --upgrade --target "$SITE" .whl/*.whl; then
  echo "[acceptance] could not install .whl/*.whl: run tools/gpu/prepare.sh first" >&2
  exit 2
fi
export PYTHONPATH="$SITE:$PWD${PYTHONPATH:+:$PYTHONPATH}" NNCLR_MM_SITE="$SITE"
export PYTHONUNBUFFERED=1
echo "[acceptance] $("$PYTHON" --version) at $(command -v "$PYTHON")"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>/dev/null \
  || echo "[acceptance] no nvidia-smi: no GPU"
"$PYTHON" -c 'import torch; print("[acceptance] torch", torch.__version__,
  "CUDA", torch.version.cuda, "cuDNN", torch.backends.cudnn.version(),
  "GPUs", torch.cuda.device_count())'
exec "$PYTHON" tools/gpu/acceptance.py "$OUT" "${REHEARSE[@]}"
