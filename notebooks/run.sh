#!/usr/bin/env bash
# Installs what the notebooks need into the current environment (lamina must already be
# installed, e.g. `pip install -e '.[dev]'`) and executes every notebook as a test.
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
# Skip pip when everything the notebooks import is there already (a no-op pip run costs
# seconds); otherwise install the requirements.
if ! python -c "import nbclient, nbformat, ipykernel, reportlab, PIL, llama_index.core, langchain_core" \
    2>/dev/null; then
    python -m pip install --quiet -r notebooks/requirements.txt
fi
# The integrations the notebooks import (no dependency resolution: their deps are above).
bash scripts/install-editable integrations/llama-index-readers-lamina \
    integrations/llama-index-node-parser-lamina integrations/llama-index-tools-lamina \
    integrations/langchain-lamina
python -m pytest -p no:cacheprovider notebooks "$@"
