# shellcheck shell=bash
# Helpers shared by infra.sh and services.sh: paths, logging, daemons and their pid files.
# Sourced, never run. The caller sets LOG_PREFIX (its name in messages) before sourcing.
# shellcheck disable=SC2034  # the variables are used by the scripts that source this file

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)
# shellcheck source=env.sh
. "$SCRIPT_DIR/env.sh"

REPRISE_HOME=${REPRISE_HOME:-$REPO_ROOT/.reprise}
DATA=$REPRISE_HOME/data
LOGS=$REPRISE_HOME/logs
LIB=$REPRISE_HOME/lib
RUN=$REPRISE_HOME/run

HOST=127.0.0.1
JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java
STOP_TIMEOUT=30          # seconds between SIGTERM and SIGKILL
LOG_PREFIX=${LOG_PREFIX:-reprise}
export DEBIAN_FRONTEND=noninteractive

say() { printf '%s: %s\n' "$LOG_PREFIX" "$*"; }

die() { printf '%s: %s\n' "$LOG_PREFIX" "$*" >&2; exit 1; }

# Paths inside the repo are shown relative to it: shorter, and the same on every machine.
show_path() {
    case $1 in "$REPO_ROOT"/*) printf '%s' "${1#"$REPO_ROOT"/}" ;; *) printf '%s' "$1" ;; esac
}

# fail_with_log MESSAGE LOG: one clear line plus the end of the log that explains it.
fail_with_log() {
    printf '%s: %s; last lines of %s:\n' "$LOG_PREFIX" "$1" "$(show_path "$2")" >&2
    tail -n 30 "$2" >&2 2>/dev/null || true
    exit 1
}

# Versions are pinned once, in the root pom, next to the client libraries that must match them.
pom_property() {
    local v
    v=$(sed -n "s:.*<$1>[[:space:]]*\([^<[:space:]]*\)[[:space:]]*</$1>.*:\1:p" "$REPO_ROOT/pom.xml" | head -n 1)
    [[ -n $v ]] || die "property <$1> not found in $(show_path "$REPO_ROOT/pom.xml")"
    printf '%s' "$v"
}

# A zombie still answers kill -0, so look at the process state: a daemon that died while we wait
# for it is our (unreaped) child until this script exits.
alive() {
    local stat
    [[ -n ${1:-} ]] && stat=$(ps -o stat= -p "$1" 2>/dev/null) && [[ $stat != Z* ]]
}

# proc_matches PID WORD: guards against a recycled pid in an old pid file.
proc_matches() { tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF -- "$2"; }

# shellcheck disable=SC2016  # $0/$1 are expanded by the inner bash
port_open() { timeout 1 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$HOST" "$1" 2>/dev/null; }

rotate_log() { if [[ -s $1 ]]; then mv -f "$1" "$1.1"; fi; }

pidfile() { printf '%s/%s.pid' "$RUN" "$1"; }

# start_daemon COMP LOG COMMAND...: runs COMMAND in the background, detached: setsid gives it
# its own session (a Ctrl-C or the end of the caller's process group doesn't reach it), nohup
# ignores SIGHUP, stdin is /dev/null and all output goes to LOG, so a caller capturing our output
# (e.g. $(infra.sh up)) is not kept waiting by the daemon holding its pipe open.
start_daemon() {
    local comp=$1 log=$2
    shift 2
    rotate_log "$log"   # a fresh log: readiness is detected from its contents
    setsid nohup "$@" </dev/null >"$log" 2>&1 &
    printf '%s\n' "$!" >"$(pidfile "$comp")"
    STARTED_PID=$!
}

# start_java_daemon COMP LOG JVM-ARGS...: start_daemon for a JVM.
start_java_daemon() { start_daemon "$1" "$2" "$JAVA" "${@:3}"; }

# stop_pid COMP PID [SIGNAL]: SIGNAL (default TERM) lets the service shut down cleanly (Kafka
# finishes its controlled shutdown and flushes its logs); SIGKILL only after STOP_TIMEOUT.
stop_pid() {
    local comp=$1 pid=$2 sig=${3:-TERM} deadline
    kill -"$sig" "$pid" 2>/dev/null || true
    deadline=$((SECONDS + STOP_TIMEOUT))
    while alive "$pid" && ((SECONDS < deadline)); do sleep 0.3; done
    if alive "$pid"; then
        say "$comp: pid $pid still running after ${STOP_TIMEOUT}s, sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        deadline=$((SECONDS + 5))
        while alive "$pid" && ((SECONDS < deadline)); do sleep 0.2; done
        ! alive "$pid" || die "$comp: pid $pid survived SIGKILL"
    fi
}

APT_UPDATED=
# Another checkout's script (or a person) may be running apt at the same moment: wait for its lock.
APT_OPTS=(-o DPkg::Lock::Timeout=300)

# Our own lock around apt: `./reprise test` installs the image store's packages and the end-to-end tools from two
# processes at once, and DPkg::Lock::Timeout covers dpkg's lock, not `apt-get update`'s lists lock.
apt_install() {
    local log=$LOGS/apt.log lock
    ((EUID == 0)) || die "$* is not installed and installing it needs root: apt-get install -y $*"
    mkdir -p "$RUN" "$LOGS"
    exec {lock}>"$RUN/apt.lock"
    flock -w 900 "$lock" || die "another apt-get of ours held $RUN/apt.lock for 900 s"
    if [[ -z $APT_UPDATED ]]; then
        say "apt-get update"
        apt-get "${APT_OPTS[@]}" update >>"$log" 2>&1 </dev/null || fail_with_log "apt-get update failed" "$log"
        APT_UPDATED=1
    fi
    say "installing $* (apt-get)"
    apt-get "${APT_OPTS[@]}" install -y --no-install-recommends "$@" >>"$log" 2>&1 </dev/null \
        || fail_with_log "apt-get install $* failed" "$log"
    exec {lock}>&-
}
