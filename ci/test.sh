#!/usr/bin/env bash
# `make test`: set up (strict), then the C library's tests, the Rust crates' tests and
# the conformance suite with every native backend required.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/setup.sh
PY=.venv/bin/python
export PATH="$PWD/.venv/bin:$PATH"   # cmake, ninja from the venv
[ -f ci/c-tests.sh ] && { echo "[test] C library tests (ctest)"; bash ci/c-tests.sh; }
[ -f ci/rust-tests.sh ] && { echo "[test] Rust crate tests (cargo test)"; bash ci/rust-tests.sh; }
export KMPSEARCH_REQUIRE=${KMPSEARCH_REQUIRE-native}   # every native row of kmpsearch.backends.TABLE
echo "[test] conformance suite (KMPSEARCH_REQUIRE=$KMPSEARCH_REQUIRE)"
exec "$PY" -m pytest tests -p no:cacheprovider "$@"
