#!/usr/bin/env bash
# `make c-sanitize`: the C library's unit tests under AddressSanitizer + UndefinedBehaviorSanitizer,
# then under ThreadSanitizer (separate builds: build/c-asan, build/c-tsan). Any report fails.
# CC picks the compiler (default cc: GCC or Clang); cmake (and ninja, if present) from PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
# cmake and ninja come from the project's venv (ci/setup.sh) when they are not installed
[ -x .venv/bin/cmake ] && export PATH="$PWD/.venv/bin:$PATH"
command -v cmake >/dev/null || { echo "cmake not found: run 'make setup' (or pip install cmake ninja)" >&2; exit 1; }
mkdir -p build
say() { printf '\033[1m[c-sanitize]\033[0m %s\n' "$*"; }

run() {  # $1 name, $2 sanitizer flags, then the command that wraps ctest (if any)
  local name=$1 flags=$2 build=build/c-$1 gen=()
  shift 2
  if command -v ninja >/dev/null && { [ ! -f "$build/CMakeCache.txt" ] || grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja$' "$build/CMakeCache.txt"; }; then
    gen=(-G Ninja)
  fi
  say "$name: configure and build ($build)"
  cmake -S . -B "$build" "${gen[@]}" -DCMAKE_BUILD_TYPE=Debug -DKMPSEARCH_BUILD_TESTS=ON -DKMPSEARCH_BUILD_SHARED=OFF \
    -DCMAKE_C_FLAGS="-O1 -g -fno-omit-frame-pointer $flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" \
    >"$build.configure.log" 2>&1 || { cat "$build.configure.log"; exit 1; }
  cmake --build "$build" --parallel 2
  say "$name: ctest"
  "$@" ctest --test-dir "$build" --output-on-failure
}

# allocator_may_return_null: the tests check that an impossible allocation gives KMP_ERR_NOMEM
export ASAN_OPTIONS=allocator_may_return_null=1:detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run asan "-fsanitize=address,undefined -fno-sanitize-recover=all"

export TSAN_OPTIONS=allocator_may_return_null=1:halt_on_error=1:second_deadlock_stack=1
wrap=()
if [ "$(uname -s)" = Linux ] && command -v setarch >/dev/null && setarch "$(uname -m)" -R true 2>/dev/null; then
  # the ThreadSanitizer of older toolchains cannot place its shadow memory under the high
  # ASLR entropy of recent kernels ("unexpected memory mapping"): run without randomisation
  wrap=(setarch "$(uname -m)" -R)
fi
run tsan "-fsanitize=thread" "${wrap[@]}"
say "ASan+UBSan and TSan: clean"
