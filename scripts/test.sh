#!/usr/bin/env bash
# Run the whole test suite: ruff, unit tests and browser tests in headless Chromium.
# Installs what the tests need (Debian's chromium and chromium-driver, the test extras).
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -k store`.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  echo "installing chromium and chromium-driver (Debian)" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO=sudo; fi
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi
WANGGE_EXTRAS=test source scripts/env.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy geo
exec .venv/bin/python -m pytest "$@"
