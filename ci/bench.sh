#!/usr/bin/env bash
# `make bench`: set up (.venv, every backend that builds here), then run the benchmark harness
# (bench/run.py) with the project's venv.
#
# Knobs (environment or make variables; empty = the harness's default):
#   SIZE=1GiB  PATTERN=3J1  THREADS=<usable CPUs>  BACKENDS=python,rust,...  FULL=1
#   REPEATS=3  SCENARIO=default|byte|long|adversarial|file|words|streams|dask|tree  PREFIX=16MiB  SEED=...
#   WORDS=10,1000,10000,100000 (SCENARIO=words: the numbers of words)
#   SEMANTICS=0 (SCENARIO=words without its match-semantics rows: whole_words, leftmost-longest,
#   ignore_case="unicode" and replace beside ahocorasick_rs and flashtext, bench/semantics.py)
#   TREE=/path  WORD=import (SCENARIO=tree: `kmpsearch -r` against `rg -uuu` and `grep -r` over a
#   directory tree, bench/tree.py; without TREE a generated tree of SIZE, default 600MiB and
#   50,000 files, kept in bench/corpus/; e.g. TREE=/root/.pyenv/versions/3.11.7/lib/python3.11)
# SCENARIO=words also installs its peers when they are missing, each on its own and best effort
# (a peer that cannot be installed is reported and its rows are left out, never a failure):
# ahocorasick-rs, pyahocorasick, hyperscan and flashtext from PyPI into the venv, ripgrep with apt-get
# when running as root (BENCH_INSTALL=0: install nothing). SCENARIO=tree installs ripgrep the
# same way, and GNU time (Debian's `time`: the commands' peak RSS; without it that column is
# empty).
# BENCH_PYTHON=/path/to/python runs the harness with that interpreter instead, without set-up
# (kmpsearch must import there); BENCH_SETUP=0 skips set-up and uses .venv as it is.
# Results: bench/results/latest.{json,md,png}; corpora: bench/corpus/ (both git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -n "${BENCH_PYTHON:-}" ]; then
    PY=$BENCH_PYTHON
else
    PY=.venv/bin/python
    if [ "${BENCH_SETUP:-1}" != 0 ]; then
        bash ci/setup.sh
    fi
fi
if ! "$PY" -c 'import sys' 2>/dev/null; then
    echo "ci/bench.sh: no working interpreter at $PY: run ci/setup.sh (make setup) first" >&2
    exit 2
fi
if ! "$PY" -c 'import rich, matplotlib, numpy' 2>/dev/null; then
    echo "ci/bench.sh: installing the bench dependencies (rich, matplotlib, numpy) for $PY" >&2
    "$PY" -m pip install --quiet --disable-pip-version-check 'rich>=13' 'matplotlib>=3.8' 'numpy>=1.26'
fi

if [ "${SCENARIO:-}" = dask ] && ! "$PY" -c 'import dask.dataframe, distributed, fsspec' 2>/dev/null; then
    echo "ci/bench.sh: installing the dask extra's packages for SCENARIO=dask" >&2
    "$PY" -m pip install --quiet --disable-pip-version-check 'dask[dataframe]>=2025.1' 'distributed>=2025.1' 'fsspec>=2024.6'
fi
not_installed=()
# a Debian package, best effort: installed with apt-get when running as root, else reported
apt_install() {  # COMMAND PACKAGE WHY (type -P: a file on PATH; `time` is also a shell keyword)
    if ! type -P "$1" >/dev/null; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            echo "ci/bench.sh: installing $2 (apt-get) for $3" >&2
            mkdir -p build
            { apt-get install -y -qq "$2" || { apt-get update -qq && apt-get install -y -qq "$2"; }; } \
                >"build/bench-apt-$2.log" 2>&1 || true
        fi
        type -P "$1" >/dev/null || not_installed+=("$2: not installed and could not be (needs root and apt-get)")
    fi
}
if [ "${SCENARIO:-}" = words ] && [ "${BENCH_INSTALL:-1}" != 0 ]; then
    mkdir -p build
    # Python peers: module name, then what pip installs (binary wheels only for hyperscan: its
    # source build needs libhs, which the wheel bundles)
    for peer in "ahocorasick_rs ahocorasick-rs>=1.0" "ahocorasick pyahocorasick>=2.0" \
                "hyperscan hyperscan>=0.7 --only-binary=hyperscan" "flashtext flashtext>=2.7"; do
        read -r module requirement options <<<"$peer"
        if ! "$PY" -c "import $module" 2>/dev/null; then
            echo "ci/bench.sh: installing $requirement for the words scenario" >&2
            # shellcheck disable=SC2086  # $options: zero or more words
            if ! "$PY" -m pip install --quiet --disable-pip-version-check $options "$requirement" \
                   >"build/bench-pip-$module.log" 2>&1 || ! "$PY" -c "import $module" 2>/dev/null; then
                not_installed+=("$requirement: pip could not install it here: $(tail -n 1 "build/bench-pip-$module.log")")
            fi
        fi
    done
    apt_install rg ripgrep "the words scenario"
fi
if [ "${SCENARIO:-}" = tree ] && [ "${BENCH_INSTALL:-1}" != 0 ]; then
    apt_install rg ripgrep "the tree scenario"
    apt_install time time "the tree scenario's peak RSS"
fi
for line in ${not_installed[@]+"${not_installed[@]}"}; do
    printf '\033[1;33m[bench] not available, its rows are left out: %s\033[0m\n' "$line" >&2
done

export SIZE="${SIZE:-}" PATTERN="${PATTERN:-}" THREADS="${THREADS:-}" BACKENDS="${BACKENDS:-}" \
       FULL="${FULL:-}" REPEATS="${REPEATS:-}" SCENARIO="${SCENARIO:-}" PREFIX="${PREFIX:-}" SEED="${SEED:-}" \
       WORDS="${WORDS:-}" SEMANTICS="${SEMANTICS:-}" TREE="${TREE:-}" WORD="${WORD:-}"
export MPLBACKEND=Agg
echo "[bench] $("$PY" -c 'import sys; print(sys.executable, sys.version.split()[0])')" \
     "SIZE=${SIZE:-$([ "${SCENARIO:-}" = tree ] && echo 600MiB || echo 1GiB)} PATTERN=${PATTERN:-default} THREADS=${THREADS:-all} BACKENDS=${BACKENDS:-all}" \
     "FULL=${FULL:-0} REPEATS=${REPEATS:-3} SCENARIO=${SCENARIO:-default}${WORDS:+ WORDS=$WORDS}${SEMANTICS:+ SEMANTICS=$SEMANTICS}${TREE:+ TREE=$TREE}${WORD:+ WORD=$WORD}"
exec "$PY" bench/run.py "$@"
