#!/usr/bin/env bash
# The C library on its own (plain CMake, no Python): build it with its unit tests, run them
# with ctest, then install it into a scratch prefix and build a tiny program against the
# installed header, library and pkg-config file. cmake (and ninja, if present) from PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
# cmake and ninja come from the project's venv (ci/setup.sh) when they are not installed
[ -x .venv/bin/cmake ] && export PATH="$PWD/.venv/bin:$PATH"
command -v cmake >/dev/null || { echo "cmake not found: run 'make setup' (or pip install cmake ninja)" >&2; exit 1; }
mkdir -p build
BUILD=${KMP_C_BUILD_DIR:-build/c-tests}
say() { printf '\033[1m[c-tests]\033[0m %s\n' "$*"; }

gen=()
if command -v ninja >/dev/null && { [ ! -f "$BUILD/CMakeCache.txt" ] || grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja$' "$BUILD/CMakeCache.txt"; }; then
  gen=(-G Ninja)
fi
say "configure and build ($BUILD)"
cmake -S . -B "$BUILD" "${gen[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKMPSEARCH_BUILD_TESTS=ON \
  -DKMPSEARCH_BUILD_SHARED=ON >"$BUILD.configure.log" 2>&1 || { cat "$BUILD.configure.log"; exit 1; }
cmake --build "$BUILD" --parallel 2
say "ctest"
ctest --test-dir "$BUILD" --output-on-failure

say "install into $BUILD/prefix and link a program against it"
rm -rf "$BUILD/prefix" "$BUILD/consumer"
cmake --install "$BUILD" --prefix "$PWD/$BUILD/prefix" >/dev/null
mkdir -p "$BUILD/consumer"
cat >"$BUILD/consumer/main.c" <<'CEOF'
#include <kmp.h>
#include <stdio.h>
#include <string.h>
int main(void) {
    kmp_searcher *s;
    const char *text = "xx3J1yy3J13J1";
    kmp_matches m = KMP_MATCHES_INIT;
    if (kmp_searcher_new("3J1", 3, &s) != KMP_OK) return 1;
    kmp_status st = kmp_find_all(s, text, strlen(text), NULL, &m);
    int ok = st == KMP_OK && m.len == 3 && m.offsets[0] == 2 && m.offsets[1] == 7 && m.offsets[2] == 10;
    printf("consumer: %zu matches (%s), kmpsearch %s\n", m.len, kmp_strerror(st), kmp_version());
    kmp_matches_free(&m);
    kmp_searcher_free(s);
    const void *words[] = {"he", "she", "hers"};
    size_t lens[] = {2, 3, 4};
    kmp_wordset *ws;
    kmp_word_matches wm = KMP_WORD_MATCHES_INIT;
    if (kmp_wordset_new(words, lens, 3, KMP_IGNORE_CASE, &ws) != KMP_OK) return 1;
    st = kmp_wordset_find_all(ws, "uSHErs", 6, NULL, &wm);
    ok &= st == KMP_OK && wm.len == 3 && wm.offsets[0] == 1 && wm.words[0] == 1 && wm.words[2] == 2;
    printf("consumer: %zu word matches (%s)\n", wm.len, kmp_strerror(st));
    kmp_word_matches_free(&wm);
    kmp_wordset_free(ws);
    return ok ? 0 : 1;
}
CEOF
prefix=$PWD/$BUILD/prefix
libdir=$(dirname "$(find "$prefix" -name kmpsearch.pc | head -n1)")/..
if command -v pkg-config >/dev/null; then
  export PKG_CONFIG_PATH="$libdir/pkgconfig"
  flags=$(pkg-config --cflags --libs --static kmpsearch)
else
  flags="-I$prefix/include -L$libdir -lkmpsearch -pthread"
fi
# shellcheck disable=SC2086
${CC:-cc} -std=c11 -Wall -Werror -o "$BUILD/consumer/main" "$BUILD/consumer/main.c" $flags -Wl,-rpath,"$libdir"
"$BUILD/consumer/main"
say "ok"
