#!/usr/bin/env bash
# Debian sid chroot for the Python versions the host does not have (3.14, 3.15, and
# free-threaded builds if sid ships them). Built once, cached OUTSIDE the repo:
#   ${KMPSEARCH_CACHE:-$HOME/.cache/kmpsearch}/sid
#
# usage:
#   ci/sid-chroot.sh setup            build the chroot (or bring it up to date); idempotent
#   ci/sid-chroot.sh run CMD [ARG..]  setup, then run CMD inside the chroot with the repo
#                                     bind-mounted at the same absolute path (cwd = repo)
#   ci/sid-chroot.sh shell            interactive shell inside the chroot
#   ci/sid-chroot.sh info             what sid ships (python3.1x, free-threaded builds, rustc)
#   ci/sid-chroot.sh umount           remove mounts a killed run may have left behind
#   ci/sid-chroot.sh destroy          delete the cached chroot (after unmounting)
#
# Needs root (debootstrap, mount, chroot). Mounts are removed on exit by a trap; one run at a
# time per cache (flock). The tools inside: python3.14/3.15 (+dev/venv), build-essential, cmake,
# ninja, pkg-config, Debian's rustc/cargo, and tox + tox-uv + uv in /opt/kmpsearch-tools.
set -euo pipefail

CACHE=${KMPSEARCH_CACHE:-$HOME/.cache/kmpsearch}
ROOT=$CACHE/sid
MIRROR=${KMPSEARCH_SID_MIRROR:-http://deb.debian.org/debian}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
# bump when the package set / tool setup below changes: forces the provisioning step to rerun
SETUP_VERSION=4
STAMP=$ROOT/.kmpsearch-setup
TOOLS=/opt/kmpsearch-tools
APT_OPTS=(-o Acquire::Check-Valid-Until=false -o Acquire::Retries=3 -o APT::Install-Recommends=false)

log() { printf '[sid-chroot] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[[ $(id -u) == 0 ]] || die "must run as root (debootstrap/mount/chroot)"

mkdir -p "$CACHE"
# one user of the chroot at a time (apt inside, mounts); the lock fd stays open until exit
exec 9>"$CACHE/sid.lock"
flock 9

# --- mounts ---------------------------------------------------------------------------------
mounts_under() {  # mount points at or below $1, deepest first
    local d
    d=$(realpath -m "$1")
    awk -v d="$d" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r
}

umount_all() {
    local m tries=0
    [[ -d $ROOT ]] || return 0
    while [[ -n $(mounts_under "$ROOT") ]]; do
        while read -r m; do
            [[ -n $m ]] || continue
            umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
        done < <(mounts_under "$ROOT")
        if (( ++tries > 5 )); then
            die "could not unmount: $(mounts_under "$ROOT" | tr '\n' ' ')"
        fi
    done
}

MOUNTED=0
mount_all() {
    umount_all      # leftovers of a killed run
    MOUNTED=1
    trap 'umount_all' EXIT
    trap 'exit 130' INT TERM HUP
    mount -t proc proc "$ROOT/proc"
    mount --rbind /dev "$ROOT/dev"
    mount --make-rslave "$ROOT/dev"
    mount -t sysfs sysfs "$ROOT/sys" 2>/dev/null || mount --rbind /sys "$ROOT/sys"
    mkdir -p "$ROOT/tmp" && chmod 1777 "$ROOT/tmp"
    mkdir -p "$ROOT$REPO"
    mount --bind "$REPO" "$ROOT$REPO"
}

host_files() {  # network config and CA bundle from the host (refreshed every run)
    install -D -m 644 /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null \
        || cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf"
    if [[ -f /etc/ssl/certs/ca-certificates.crt ]]; then
        mkdir -p "$ROOT/etc/ssl/certs"
        cp -L /etc/ssl/certs/ca-certificates.crt "$ROOT/etc/ssl/certs/ca-certificates.crt"
    fi
    # local CAs too, so that update-ca-certificates inside (ca-certificates upgrades) keeps them
    if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
        mkdir -p "$ROOT/usr/local/share/ca-certificates"
        cp -L /usr/local/share/ca-certificates/*.crt "$ROOT/usr/local/share/ca-certificates/"
    fi
    if [[ -f /etc/hosts ]]; then cp -L /etc/hosts "$ROOT/etc/hosts"; fi
}

in_chroot() {  # run a command in the chroot with a clean environment
    chroot "$ROOT" /usr/bin/env -i \
        HOME=/root TERM="${TERM:-dumb}" LANG=C.UTF-8 \
        PATH=$TOOLS/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        DEBIAN_FRONTEND=noninteractive \
        SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
        PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
        REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt \
        PIP_DISABLE_PIP_VERSION_CHECK=1 \
        "$@"
}

# --- build ----------------------------------------------------------------------------------
bootstrap() {
    [[ -x $ROOT/usr/bin/apt-get && -f $ROOT/.kmpsearch-debootstrap ]] && return 0
    command -v debootstrap >/dev/null || {
        log "installing debootstrap on the host"
        apt-get "${APT_OPTS[@]}" update -qq
        apt-get "${APT_OPTS[@]}" install -y -qq debootstrap >/dev/null
    }
    # an interrupted debootstrap leaves a half-built tree: start over (never across mounts)
    if [[ -e $ROOT ]]; then
        umount_all
        [[ -z $(mounts_under "$ROOT") ]] || die "refusing to delete $ROOT: still mounted"
        log "removing incomplete chroot $ROOT"
        rm -rf --one-file-system "$ROOT"
    fi
    log "debootstrap --variant=minbase sid $ROOT ($MIRROR) ..."
    local t0=$SECONDS
    debootstrap --variant=minbase sid "$ROOT" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 || {
        tail -n 30 "$CACHE/debootstrap.log" >&2
        die "debootstrap failed (log: $CACHE/debootstrap.log)"
    }
    touch "$ROOT/.kmpsearch-debootstrap"
    log "debootstrap done in $((SECONDS - t0)) s"
}

# packages that exist in sid, from a list of candidates
available() {
    local p
    for p in "$@"; do
        if in_chroot apt-cache show --no-all-versions "$p" >/dev/null 2>&1; then echo "$p"; fi
    done
}

provision() {
    if [[ -f $STAMP && $(cat "$STAMP") == "$SETUP_VERSION" ]]; then
        return 0
    fi
    log "provisioning packages and tools (setup version $SETUP_VERSION) ..."
    local t0=$SECONDS
    cat >"$ROOT/etc/apt/apt.conf.d/90kmpsearch" <<'EOF'
Acquire::Check-Valid-Until "false";
Acquire::Retries "3";
APT::Install-Recommends "false";
APT::Install-Suggests "false";
EOF
    printf 'deb %s sid main\n' "$MIRROR" >"$ROOT/etc/apt/sources.list"
    in_chroot apt-get "${APT_OPTS[@]}" update -qq
    in_chroot apt-get "${APT_OPTS[@]}" -y -qq dist-upgrade >/dev/null

    # libffi-dev: cffi from source where PyPI has no wheel for the interpreter (3.15)
    # ripgrep: the command's tests compare with it
    local want=(ca-certificates build-essential cmake ninja-build pkg-config git libffi-dev
                python3 python3-venv python3-pip rustc cargo ripgrep)
    local v
    for v in 3.14 3.15; do
        want+=("python$v" "python$v-dev" "python$v-venv")
        # free-threaded builds, under the names Debian has used (python3.13-nogil in trixie)
        want+=("python$v-nogil" "python$v-nogil-dev" "python$v-nogil-venv"
               "python${v}t" "python${v}t-dev" "python${v}t-venv")
    done
    mapfile -t pkgs < <(available "${want[@]}")
    log "installing: ${pkgs[*]}"
    in_chroot apt-get "${APT_OPTS[@]}" install -y -qq "${pkgs[@]}" >"$CACHE/apt-install.log" 2>&1 || {
        tail -n 30 "$CACHE/apt-install.log" >&2
        die "apt-get install failed (log: $CACHE/apt-install.log)"
    }
    in_chroot apt-get clean
    host_files   # installing ca-certificates replaced the bundle: put the host's back

    # tox, tox-uv and uv in their own venv (same pins as the host: ci/tools-requirements.txt)
    in_chroot sh -c "test -x $TOOLS/bin/python || python3 -m venv $TOOLS"
    cp "$REPO/ci/tools-requirements.txt" "$ROOT/tmp/kmpsearch-tools-requirements.txt"
    in_chroot "$TOOLS/bin/python" -m pip install -q --disable-pip-version-check \
        -r /tmp/kmpsearch-tools-requirements.txt
    echo "$SETUP_VERSION" >"$STAMP"
    log "provisioning done in $((SECONDS - t0)) s"
}

info() {
    in_chroot sh -c '
        echo "== python interpreters in sid (apt-cache search ^python3.1[0-9]) =="
        apt-cache search --names-only "^python3\.1[0-9]" | sort
        echo "== free-threaded candidates (nogil / freethreading / 3.1Xt) =="
        apt-cache search --names-only "nogil|free-?thread|python3\.1[0-9]t" | sort
        echo "== installed =="
        for p in /usr/bin/python3.1[0-9] /usr/bin/python3.1[0-9]t; do [ -x "$p" ] && echo "$p: $("$p" -c "import sys,sysconfig; print(sys.version.split()[0], \"free-threaded\" if sysconfig.get_config_var(\"Py_GIL_DISABLED\") else \"GIL\")")"; done
        rustc --version; cargo --version; cmake --version | head -n1
        '"$TOOLS"'/bin/tox --version; '"$TOOLS"'/bin/uv --version'
}

# ripgrep in a chroot provisioned before it was on the list (without a new provision: that
# would upgrade the interpreters too); the tests comparing with it skip if it cannot be had
ensure_ripgrep() {
    in_chroot sh -c 'command -v rg' >/dev/null 2>&1 && return 0
    log "installing ripgrep in the chroot ..."
    { in_chroot apt-get "${APT_OPTS[@]}" install -y -qq ripgrep ||
      { in_chroot apt-get "${APT_OPTS[@]}" update -qq &&
        in_chroot apt-get "${APT_OPTS[@]}" install -y -qq ripgrep; }; } >"$CACHE/apt-ripgrep.log" 2>&1 ||
        log "ripgrep could not be installed (log: $CACHE/apt-ripgrep.log): the tests comparing with it skip"
    in_chroot apt-get clean || true
}

setup() {
    bootstrap
    umount_all
    host_files
    mount_all
    provision
    ensure_ripgrep
}

cmd=${1:-setup}
shift || true
case $cmd in
    setup) setup ;;
    run)
        [[ $# -gt 0 ]] || die "run: no command"
        setup
        # env vars passed through explicitly (the chroot gets a clean environment)
        pass=()
        for var in CI KMPSEARCH_REQUIRE TOX_PARALLEL_NO_SPINNER PY_COLORS FORCE_COLOR NO_COLOR; do
            [[ -n ${!var+x} ]] && pass+=("$var=${!var}")
        done
        # `env -C` is not used so that this works with older coreutils inside the chroot
        in_chroot "${pass[@]}" sh -c 'cd "$0" && exec "$@"' "$REPO" "$@"
        ;;
    shell)
        setup
        in_chroot sh -c 'cd "$0" && exec bash -l' "$REPO"
        ;;
    info) setup; info ;;
    umount) umount_all ;;
    destroy)
        umount_all
        [[ -z $(mounts_under "$ROOT") ]] || die "refusing to delete $ROOT: still mounted"
        rm -rf --one-file-system "$ROOT"
        ;;
    *) die "unknown command: $cmd (setup|run|shell|info|umount|destroy)" ;;
esac
