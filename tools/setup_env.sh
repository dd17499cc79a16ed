#!/usr/bin/env bash
# Create ./.venv with the tested stack and nnclr_mm installed (editable).
# Idempotent: a second run only checks. Override the interpreter with
# PYTHON=..., the torch wheels with TORCH_SPEC='torch==X torchvision==Y'.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
TORCH_SPEC=${TORCH_SPEC:-torch==2.14.1 torchvision==0.29.1}
PIP=(.venv/bin/python -m pip install -q --disable-pip-version-check)

[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
if ! .venv/bin/python -c 'import torch, torchvision' 2>/dev/null; then
  echo "[setup] installing $TORCH_SPEC into .venv"
  # shellcheck disable=SC2086
  "${PIP[@]}" $TORCH_SPEC
fi
# Today's setuptools has no pkg_resources: test against that stack.
"${PIP[@]}" -U setuptools
# The tested versions, within the ranges pyproject.toml declares.
"${PIP[@]}" -e '.[tests]' mmengine==0.10.7 mmcv-lite==2.2.0 mmpretrain==1.2.0 \
  lightly==1.6.0

# Real images for the quickstart and the data tests (Debian package).
FMNIST=/usr/share/datasets/fashion-mnist
if [ ! -f "$FMNIST/train-images-idx3-ubyte.gz" ] && command -v apt-get \
    >/dev/null && [ "$(id -u)" = 0 ]; then
  echo "[setup] installing Debian's dataset-fashion-mnist"
  apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist
fi
echo "[setup] ready: $(.venv/bin/python -c 'import torch, mmpretrain, nnclr_mm
print("torch", torch.__version__, "mmpretrain", mmpretrain.__version__,
      "nnclr_mm", nnclr_mm.__version__)' 2>/dev/null)"
