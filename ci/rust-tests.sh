#!/usr/bin/env bash
# The Rust crates' own tests: unit, property (proptest) and doc tests of kmpsearch-core.
# No Python needed (the binding crate is tested through the Python conformance suite).
#   bash ci/rust-tests.sh [extra cargo test args]
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo >/dev/null 2>&1 || { echo "[rust-tests] cargo is not installed (https://rustup.rs)" >&2; exit 1; }
cd rust
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
# release: the property tests run thousands of searches, and the release build is shared
# with ci/build-rust.sh's dependencies
exec cargo test --release -p kmpsearch-core "$@"
