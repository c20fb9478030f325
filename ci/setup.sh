#!/usr/bin/env bash
# Create .venv and build/install every kmpsearch backend that can be built here.
# Best effort: what cannot be built is reported (with the end of its build log) and the rest
# goes on; `make test` then fails through KMPSEARCH_REQUIRE if a required backend is missing.
# PYTHON names the base interpreter (default python3, >= 3.11).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=.venv
PY=$VENV/bin/python
say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[setup] %s\033[0m\n' "$*" >&2; exit 1; }

command -v "$PYTHON" >/dev/null || die "no Python interpreter '$PYTHON' (set PYTHON=/path/to/python3.11+)"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || die "$PYTHON is older than 3.11"

if [ ! -x "$PY" ] || ! "$PY" -c 'import sys' 2>/dev/null; then
  say "creating $VENV with $("$PYTHON" -c 'import sys; print(sys.executable, sys.version.split()[0])')"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV" || die "could not create $VENV (on Debian: apt-get install python3-venv)"
fi

# Python packages: build tools, test and bench dependencies (reinstalled only when the list changes)
stamp=$VENV/.kmpsearch-deps
if ! cmp -s ci/requirements-dev.txt "$stamp"; then
  say "installing build, test and bench dependencies into $VENV (ci/requirements-dev.txt)"
  "$PY" -m pip install -q --disable-pip-version-check -U -r ci/requirements-dev.txt \
    || die "pip could not install ci/requirements-dev.txt (is PyPI reachable?)"
  cp ci/requirements-dev.txt "$stamp"
fi

failed=()
# The root project: pure-Python package + C library/cffi module + Cython module (scikit-build-core).
# If a native part cannot be built, retry without it so the rest still installs.
build_root() {  # $1 cffi ON/OFF, $2 cython ON/OFF
  "$PY" -m pip install -q --disable-pip-version-check --no-build-isolation --no-deps --force-reinstall \
    -Cbuild-dir=build/venv -Ccmake.define.KMPSEARCH_BUILD_CFFI="$1" -Ccmake.define.KMPSEARCH_BUILD_CYTHON="$2" \
    . >build/setup-root.log 2>&1
}
mkdir -p build
say "building kmpsearch (C library, cffi and Cython modules) — log: build/setup-root.log"
if ! build_root ON ON; then
  cp build/setup-root.log build/setup-root-failed.log
  if build_root ON OFF; then failed+=("cython: build failed, see build/setup-root-failed.log")
  elif build_root OFF ON; then failed+=("cffi: build failed, see build/setup-root-failed.log")
  elif build_root OFF OFF; then failed+=("cffi, cython: build failed, see build/setup-root-failed.log")
  else die "could not install even the pure-Python package: see build/setup-root.log"
  fi
fi

if [ -f rust/pyproject.toml ]; then
  if command -v cargo >/dev/null; then
    say "building the Rust backend (release) — log: build/setup-rust.log"
    if ! bash ci/build-rust.sh "$PY" >build/setup-rust.log 2>&1; then
      failed+=("rust: build failed, see build/setup-rust.log")
    fi
  else
    failed+=("rust: cargo is not installed (https://rustup.rs), the Rust backend was not built")
  fi
fi

# ripgrep: the command's tests compare with it (and SCENARIO=tree/words with it); from Debian's
# packages when running as root, best effort (its tests say why they are skipped otherwise)
if ! command -v rg >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing ripgrep (apt-get) — log: build/setup-ripgrep.log"
    { apt-get install -y -qq ripgrep || { apt-get update -qq && apt-get install -y -qq ripgrep; }; } \
      >build/setup-ripgrep.log 2>&1 || true
  fi
  command -v rg >/dev/null || failed+=("ripgrep: not installed (needs root and apt-get): the tests comparing with it skip")
fi

"$PY" - <<'PYEOF'
import kmpsearch
print("[setup] backends available:", ", ".join(kmpsearch.available_backends()), "| default:", kmpsearch.backend)
for name in kmpsearch.KNOWN_BACKENDS:
    try:
        kmpsearch.get_backend(name)
    except ImportError as exc:
        print(f"[setup]   {name}: {exc}")
PYEOF
if [ ${#failed[@]} -gt 0 ]; then
  for log in build/setup-root-failed.log build/setup-rust.log; do
    [ -f "$log" ] && grep -qiE 'error|failed' "$log" && { echo "---- end of $log ----" >&2; tail -n 25 "$log" >&2; }
  done
  for f in "${failed[@]}"; do printf '\033[1;33m[setup] not built: %s\033[0m\n' "$f" >&2; done
fi
exit 0
