#!/usr/bin/env bash
# `make bench`: set up (.venv, every backend that builds here), then run the benchmark harness
# (bench/run.py) with the project's venv.
#
# Knobs (environment or make variables; empty = the harness's default):
#   SIZE=1GiB  PATTERN=3J1  THREADS=<usable CPUs>  BACKENDS=python,rust,...  FULL=1
#   REPEATS=3  SCENARIO=default|byte|long|adversarial|file  PREFIX=16MiB  SEED=...
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

export SIZE="${SIZE:-}" PATTERN="${PATTERN:-}" THREADS="${THREADS:-}" BACKENDS="${BACKENDS:-}" \
       FULL="${FULL:-}" REPEATS="${REPEATS:-}" SCENARIO="${SCENARIO:-}" PREFIX="${PREFIX:-}" SEED="${SEED:-}"
export MPLBACKEND=Agg
echo "[bench] $("$PY" -c 'import sys; print(sys.executable, sys.version.split()[0])')" \
     "SIZE=${SIZE:-1GiB} PATTERN=${PATTERN:-default} THREADS=${THREADS:-all} BACKENDS=${BACKENDS:-all}" \
     "FULL=${FULL:-0} REPEATS=${REPEATS:-3} SCENARIO=${SCENARIO:-default}"
exec "$PY" bench/run.py "$@"
