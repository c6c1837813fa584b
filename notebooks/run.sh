#!/usr/bin/env bash
# Installs what the notebooks need into the current environment (lamina must already be
# installed, e.g. `pip install -e '.[dev]'`) and executes every notebook as a test.
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install --quiet -r notebooks/requirements.txt
# The integrations the notebooks import (no dependency resolution: their deps are above).
for package in llama-index-readers-lamina llama-index-node-parser-lamina llama-index-tools-lamina \
    langchain-lamina; do
    python -m pip install --quiet --no-deps -e "integrations/$package"
done
python -m pytest -p no:cacheprovider notebooks "$@"
