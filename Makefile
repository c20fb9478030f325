# kmpsearch: the two commands users run are `make bench` and `make test`.
# Both set themselves up on a fresh machine (.venv, build and install every backend).
#
#   make bench [SIZE=1GiB] [PATTERN=3J1] [THREADS=N] [BACKENDS=a,b] [FULL=1] [REPEATS=3] [SCENARIO=default]
#              [WORDS=10,1000,10000,100000]   (SCENARIO=words: the numbers of words)
#              [TREE=/path] [WORD=import]     (SCENARIO=tree: the directory searched, default a generated
#                                              tree of SIZE, 600MiB; the word)
#   make test                 C tests, Rust tests, the conformance suite (native backends required)
#   make tox                  the suite on Python 3.11-3.15 (+ 3.14t/3.15t where available)
#   make c-sanitize           the C tests under ASan+UBSan and under TSan
#   make setup                only create .venv and build/install what can be built
#   make clean                remove what the build made (keeps the benchmark corpus)
#   make distclean            clean, and remove the corpus and benchmark results too

PYTHON ?= python3
export PYTHON

.PHONY: all setup test bench tox c-sanitize clean distclean
all: test

setup:
	@bash ci/setup.sh

test:
	@bash ci/test.sh

bench:
	@SIZE="$(SIZE)" PATTERN="$(PATTERN)" THREADS="$(THREADS)" BACKENDS="$(BACKENDS)" FULL="$(FULL)" \
	 REPEATS="$(REPEATS)" SCENARIO="$(SCENARIO)" WORDS="$(WORDS)" TREE="$(TREE)" WORD="$(WORD)" bash ci/bench.sh

tox:
	@bash ci/tox.sh

c-sanitize:
	@bash ci/c-sanitize.sh

clean:
	rm -rf .venv build dist rust/target .tox .pytest_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf bench/corpus bench/results
