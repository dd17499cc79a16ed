#!/usr/bin/env bash
# Prepare the GPU acceptance run on a machine with the package index: the
# wheels a bare GPU node lacks into .whl/, a Fashion-MNIST subset into
# data/gpu/ (both git-ignored), and the size of what travels. Sets up
# ./.venv (the tested stack) first. See tools/gpu/prepare.py.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tools/setup_env.sh
exec .venv/bin/python tools/gpu/prepare.py "$@"
