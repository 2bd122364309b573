#!/usr/bin/env bash
# Runs bench/make_results_test.py with the system python3 (the page
# generator uses the standard library only, so no Python toolchain).
set -euo pipefail
exec /usr/bin/python3 "$TEST_SRCDIR/$TEST_WORKSPACE/bench/make_results_test.py"
