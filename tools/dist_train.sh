#!/usr/bin/env bash
# Distributed training on one node: bash tools/dist_train.sh CONFIG GPUS
# [train.py args]; `nnclr-mm dist-train` from a clone. NNODES, NODE_RANK,
# MASTER_ADDR and PORT span nodes; PYTHON picks the interpreter (python).
PYTHONPATH="$(dirname "$0")/..":$PYTHONPATH \
exec "${PYTHON:-python}" -m nnclr_mm.cli dist-train "$@"
