#!/usr/bin/env bash
# Build the Rust backend's extension module `kmpsearch_rust` (release) with maturin and
# install it into a Python environment.
#   bash ci/build-rust.sh [PYTHON]     PYTHON: the interpreter of the target environment
#                                      (first argument, else $PYTHON, else python3)
# The wheel is per-version (not abi3) so it also works on free-threaded builds; it is
# written to build/rust-wheels/. Cargo's target dir is rust/target (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${1:-${PYTHON:-python3}}
say() { printf '\033[1m[build-rust]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[build-rust] %s\033[0m\n' "$*" >&2; exit 1; }

command -v cargo >/dev/null 2>&1 || die "cargo is not installed: the Rust backend needs a Rust toolchain (https://rustup.rs), then run this again"
command -v "$PY" >/dev/null 2>&1 || die "no Python interpreter '$PY'"
PY=$("$PY" -c 'import sys; print(sys.executable)')   # absolute (the build runs in rust/)

# maturin: the target environment's own, else one on PATH, else install it there
if "$PY" -m maturin --version >/dev/null 2>&1; then
  MATURIN=("$PY" -m maturin)
elif command -v maturin >/dev/null 2>&1; then
  MATURIN=(maturin)
else
  say "installing maturin into $PY's environment"
  "$PY" -m pip install -q --disable-pip-version-check "maturin>=1.9,<2" || die "could not install maturin (pip install maturin)"
  MATURIN=("$PY" -m maturin)
fi

out=build/rust-wheels
mkdir -p "$out"
rm -f "$out"/kmpsearch_rust-*.whl
say "cargo $(cargo --version | cut -d' ' -f2), $("${MATURIN[@]}" --version), Python $("$PY" -c 'import sys, sysconfig; print(sys.version.split()[0] + ("t" if sysconfig.get_config_var("Py_GIL_DISABLED") else ""))')"
(cd rust && CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}" "${MATURIN[@]}" build --release --interpreter "$PY" --out "../$out")
wheel=$(ls "$out"/kmpsearch_rust-*.whl | head -n1)
[ -n "$wheel" ] || die "maturin built no wheel"
say "installing $wheel"
"$PY" -m pip install -q --disable-pip-version-check --no-deps --force-reinstall "$wheel"
"$PY" -c 'import kmpsearch_rust as k; print("[build-rust] kmpsearch_rust", k.__version__, "installed")'
