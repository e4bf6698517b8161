#!/usr/bin/env bash
# Run the command-centre dashboard on the built-in demo county: http://127.0.0.1:8050/
# First run: creates .venv, installs wangge, builds the demo county and divides it into grids.
set -euo pipefail
source "$(dirname "$0")/env.sh"
exec .venv/bin/python app.py
