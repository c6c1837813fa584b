#!/usr/bin/env bash
# Install the four integration packages editable into the current environment (no dependency
# resolution: lamina and the framework cores must already be installed) and run each package's
# tests in its own pytest session. Extra arguments go to every pytest run.
set -euo pipefail
cd "$(dirname "$0")"
PACKAGES=(
    llama-index-readers-lamina
    llama-index-node-parser-lamina
    llama-index-tools-lamina
    langchain-lamina
)
bash ../scripts/install-editable "${PACKAGES[@]}"  # skips those already installed from here
status=0
for package in "${PACKAGES[@]}"; do
    echo "=== $package"
    (cd "$package" && python -m pytest -p no:cacheprovider "$@") || status=1
done
exit "$status"
