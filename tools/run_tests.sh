#!/usr/bin/env bash
# Set up ./.venv (tools/setup_env.sh), lint, then run the test suite.
# Extra arguments go to pytest, e.g. `bash tools/run_tests.sh -k loss`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup_env.sh
.venv/bin/ruff check .
.venv/bin/python -m pytest "$@"
