#!/usr/bin/env bash
# Set up ./.venv, then train NNCLR on real Fashion-MNIST (offline, a few
# minutes on a CPU; a GPU is used when present), evaluate it by kNN next to
# the raw-pixel baseline, and plot its training curves.
# Extra arguments go to tools/train.py, e.g.
# --cfg-options train_cfg.max_epochs=2.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup_env.sh

CONFIG=${CONFIG:-configs/nnclr/nnclr_resnet18_1xb256-coslr-5e_fashion-mnist.py}
WORK_DIR=${WORK_DIR:-work_dirs/quickstart}
PY=.venv/bin/python

$PY tools/train.py "$CONFIG" --work-dir "$WORK_DIR" "$@"
CHECKPOINT=$(cat "$WORK_DIR/last_checkpoint")
$PY tools/analysis_tools/knn_eval.py "$CONFIG" "$CHECKPOINT" --pixel-baseline \
  --work-dir "$WORK_DIR/knn_eval" --out "$WORK_DIR/knn.json"
$PY tools/analysis_tools/plot_curves.py "$WORK_DIR" --out "$WORK_DIR/training_curves.png"
echo "checkpoint: $CHECKPOINT"
