#!/usr/bin/env bash
# The whole tox matrix (issue 7), as `make tox` runs it:
#   host (pyenv CPython 3.11.7, 3.12.1, 3.13.0):  envs 3.11, 3.12, 3.13
#   Debian sid chroot (ci/sid-chroot.sh):          envs 3.14, 3.15, 3.14t, 3.15t
# Free-threaded 3.14t/3.15t: a `python3.14t` / `python3.15t` on the host's PATH runs its env on
# the host (moved out of the chroot's list); otherwise the chroot looks for one (sid ships none
# today, uv may not download one) and tox reports the env as SKIP, never OK. A "t" env whose
# interpreter has a GIL fails (tox.ini checks), so a wrong python3.14t cannot pass as OK.
#
# Ends with one `ENV: OK|FAIL|SKIP` line per env (tox's own summary lines, host and chroot
# merged in env_list order), each followed by what its suite did (passed / failed / skipped,
# the skip reasons grouped, the extras ci/tox_extras.py could not install there), and a
# closing `tox: N passed, N failed, N skipped` line; exits non-zero if any env failed or
# could not be run.
#
# usage: ci/tox.sh [extra tox args, e.g. -- -x to pass -x on to pytest]
# env:   KMPSEARCH_TOX_HOST_ENVS (default 3.11,3.12,3.13), KMPSEARCH_TOX_SID_ENVS
#        (default 3.14,3.15,3.14t,3.15t; empty: no chroot), KMPSEARCH_TOX_MUST_RUN (default
#        3.11,3.12,3.13,3.14,3.15: envs whose SKIP counts as a failure, since this machine has
#        their interpreters), KMPSEARCH_CACHE (caches, default ~/.cache/kmpsearch),
#        KMPSEARCH_REQUIRE (default in tox.ini: native = the native rows of kmpsearch.backends.TABLE),
#        KMPSEARCH_TOX_SERIAL=1 (the host's envs, then the chroot's; default: both at once)
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
CACHE=${KMPSEARCH_CACHE:-$HOME/.cache/kmpsearch}
export KMPSEARCH_CACHE=$CACHE
HOST_ENVS=${KMPSEARCH_TOX_HOST_ENVS-3.11,3.12,3.13}
SID_ENVS=${KMPSEARCH_TOX_SID_ENVS-3.14,3.15,3.14t,3.15t}
ALL_ENVS=3.11,3.12,3.13,3.14,3.15,3.14t,3.15t
MUST_RUN=${KMPSEARCH_TOX_MUST_RUN-3.11,3.12,3.13,3.14,3.15}
# a free-threaded interpreter on the host's PATH: its env runs on the host, not in the chroot
for ft in 3.14t 3.15t; do
    if [[ ,$SID_ENVS, == *",$ft,"* ]] && command -v "python$ft" >/dev/null 2>&1; then
        HOST_ENVS=${HOST_ENVS:+$HOST_ENVS,}$ft
        SID_ENVS=$(tr ',' '\n' <<<"$SID_ENVS" | grep -vx "$ft" | paste -sd, -)
        printf '[ci/tox.sh] %s\n' "python$ft on PATH ($(command -v "python$ft")): env $ft runs on the host" >&2
    fi
done
PYENV_ROOT=${PYENV_ROOT:-/root/.pyenv}
PYENV_VERSIONS=(3.11.7 3.12.1 3.13.0)
TOOLS=$CACHE/host-tools
LOGS=$CACHE/tox-logs
# tox's work dirs (envs, the CMake build trees, cargo target dirs) live outside the checkout, so
# that a fresh clone (CI) still builds incrementally: on the host under $CACHE, in the chroot on
# the chroot's own disk (cached with it). One ci/tox.sh at a time per cache (flock below).
HOST_WORKDIR=$CACHE/tox-work/host
SID_WORKDIR=/var/cache/kmpsearch/tox-work
mkdir -p "$CACHE" "$LOGS" "$HOST_WORKDIR"
exec 8>"$CACHE/tox.lock"
if ! flock -n 8; then
    echo "[ci/tox.sh] waiting for another ci/tox.sh run on $CACHE to finish" >&2
    flock 8
fi

log() { printf '[ci/tox.sh] %s\n' "$*" >&2; }
t_start=$SECONDS

# --- tox on the host: tools venv outside the repo, pinned like the chroot's -------------------
host_tools() {
    local req=$REPO/ci/tools-requirements.txt want have py
    want=$(sha256sum "$req" | cut -d' ' -f1)
    have=$(cat "$TOOLS/.requirements.sha256" 2>/dev/null || true)
    if [[ $want == "$have" ]] && "$TOOLS/bin/tox" --version >/dev/null 2>&1; then return 0; fi
    py=$PYENV_ROOT/versions/3.13.0/bin/python
    [[ -x $py ]] || py=$(command -v python3)
    log "installing tox, tox-uv, uv into $TOOLS (with $py)"
    rm -rf "$TOOLS"
    "$py" -m venv "$TOOLS" && "$TOOLS/bin/python" -m pip install -q --disable-pip-version-check -r "$req" \
        && echo "$want" >"$TOOLS/.requirements.sha256"
}

# pyenv's interpreters first on PATH (python3.11 .. python3.13), never a managed download
host_env() {
    local v p=""
    for v in "${PYENV_VERSIONS[@]}"; do
        [[ -x $PYENV_ROOT/versions/$v/bin/python ]] && p+="$PYENV_ROOT/versions/$v/bin:"
    done
    export PATH="$TOOLS/bin:$p$PATH"
    export UV_PYTHON_DOWNLOADS=never UV_PYTHON_PREFERENCE=only-system
    export UV_CACHE_DIR=${UV_CACHE_DIR:-$CACHE/uv}
    export PY_COLORS=0 NO_COLOR=1 TOX_PARALLEL_NO_SPINNER=1
}

declare -A RESULT=()   # env -> its tox summary line
declare -A TESTS=()    # env -> what its suite did (tests/conftest.py's KMPSEARCH-SUMMARY line)
collect() {  # the `  ENV: OK|FAIL|SKIP (...)` and KMPSEARCH-SUMMARY lines of a tox log
    local line name
    while IFS= read -r line; do
        name=${line%%:*}; name=${name//[[:space:]]/}
        RESULT[$name]=$line
    done < <(grep -E '^  [^ :]+: (OK|FAIL|SKIP)( |$)' "$1" || true)
    while IFS= read -r line; do
        name=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["env"])' "$line" 2>/dev/null) || continue
        [[ -n $name ]] && TESTS[$name]=$line
    done < <(grep -o 'KMPSEARCH-SUMMARY {.*}' "$1" | sed 's/^KMPSEARCH-SUMMARY //' || true)
}

# what an env's suite did, from its KMPSEARCH-SUMMARY json: counts, skip reasons grouped,
# the extras it could not install
describe() {
    python3 - "$1" <<'PYEOF'
import json, sys
s = json.loads(sys.argv[1])
print(f"      tests: {s['passed']} passed, {s['failed']} failed, {s['skipped']} skipped")
for reason, n in s["skip_reasons"].items():
    print(f"      skipped {n}x: {reason}")
for extra, why in s["extras_missing"].items():
    print(f"      extra not installed: {extra}: {why}")
PYEOF
}

run_host() {  # tox on the host, to host.log; its exit code: 3 when tox could not be installed
    host_tools || { log "could not install tox on the host"; return 3; }
    local t=$SECONDS rc
    (host_env; cd "$REPO" && exec tox run -e "$HOST_ENVS" --workdir "$HOST_WORKDIR" "$@") >"$LOGS/host.log" 2>&1
    rc=$?
    log "host tox exited $rc after $((SECONDS - t)) s"
    return $rc
}

run_sid() {  # the chroot's tox: same tox.ini, its own work dir, caches inside the cached chroot
    local t=$SECONDS rc
    "$REPO/ci/sid-chroot.sh" run env PATH="/opt/kmpsearch-tools/bin:/usr/local/bin:/usr/bin:/bin" \
        UV_PYTHON_DOWNLOADS=never UV_PYTHON_PREFERENCE=only-system \
        PY_COLORS=0 NO_COLOR=1 \
        tox run -e "$SID_ENVS" --workdir "$SID_WORKDIR" "$@" 2>&1 | tee "$LOGS/sid.log"
    rc=${PIPESTATUS[0]}
    log "sid chroot tox exited $rc after $((SECONDS - t)) s"
}

# The host's envs and the chroot's run at the same time (each suite is mostly one busy core;
# KMPSEARCH_TOX_SERIAL=1: one after the other); the chroot's output shows as it comes, the
# host's log follows it. tox's own exit codes are not used: they are 1 when every env was
# skipped; the per-env lines decide (an env without a line counts as failed).
status=0
rm -f "$LOGS/host.log" "$LOGS/sid.log"
host_pid=""
if [[ -n $HOST_ENVS ]]; then
    log "host envs $HOST_ENVS: output in $LOGS/host.log, shown when they are done"
    if [[ ${KMPSEARCH_TOX_SERIAL:-0} == 1 ]]; then
        run_host "$@"; host_rc=$?
    else
        run_host "$@" & host_pid=$!
    fi
fi
if [[ -n $SID_ENVS ]]; then
    run_sid "$@"
fi
if [[ -n $host_pid ]]; then
    wait "$host_pid"; host_rc=$?
fi
if [[ -n $HOST_ENVS ]]; then
    echo "---------------- host tox log ($LOGS/host.log) ----------------"
    cat "$LOGS/host.log" 2>/dev/null
    [[ $host_rc == 3 ]] && status=1
    collect "$LOGS/host.log"
fi
[[ -n $SID_ENVS ]] && collect "$LOGS/sid.log"

# --- merged summary, in env_list order ----------------------------------------------------------
passed=0 failed=0 skipped=0
echo
echo "tox matrix summary (host: ${HOST_ENVS:-none}; Debian sid chroot: ${SID_ENVS:-none}; $((SECONDS - t_start)) s):"
IFS=, read -r -a envs <<<"$ALL_ENVS"
for e in "${envs[@]}"; do
    [[ ,$HOST_ENVS,$SID_ENVS, == *",$e,"* ]] || continue
    line=${RESULT[$e]:-"  $e: FAIL (no result from tox: it did not run this env)"}
    if [[ $line == *": SKIP"* && ,$MUST_RUN, == *",$e,"* ]]; then
        # an interpreter this machine is meant to have went missing: not a silent skip
        line="  $e: FAIL (tox skipped it: interpreter not found, but $e must run here)"
    fi
    echo "$line"
    if [[ -n ${TESTS[$e]:-} ]]; then describe "${TESTS[$e]}"; fi
    case $line in
        *": OK"*) passed=$((passed + 1)) ;;
        *": SKIP"*) skipped=$((skipped + 1)) ;;
        *) failed=$((failed + 1)); status=1 ;;
    esac
done
echo "tox: $passed passed, $failed failed, $skipped skipped"
exit $status
