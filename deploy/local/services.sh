#!/usr/bin/env bash
# The five Reprise services as local processes, each from its Quarkus fast-jar.
#
#   deploy/local/services.sh up|down|status [gateway|build-runner|replay|artifact|image-cache ...]
#
# `up` starts what is not running and waits until every service's /q/health/ready says UP;
# a service already running is reported and left alone. Ports: GATEWAY_PORT (8080),
# BUILD_RUNNER_PORT (8081), REPLAY_PORT (8082), ARTIFACT_PORT (8083), IMAGE_CACHE_PORT (8084).
# JVM options: REPRISE_JAVA_OPTS (default -Xmx256m). The store addresses come from env.sh.
# Builds nothing: `./reprise up` builds first.
set -euo pipefail

LOG_PREFIX=services
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$SCRIPT_DIR/lib.sh"

SERVICES=(gateway build-runner replay artifact image-cache)
READY_TIMEOUT=${REPRISE_READY_TIMEOUT:-120}
JAVA_OPTS=${REPRISE_JAVA_OPTS:--Xmx256m -XX:+UseSerialGC}
: "${GATEWAY_PORT:=8080}" "${BUILD_RUNNER_PORT:=8081}" "${REPLAY_PORT:=8082}" "${ARTIFACT_PORT:=8083}" \
  "${IMAGE_CACHE_PORT:=8084}"

port_of() {
    case $1 in
        gateway) printf '%s' "$GATEWAY_PORT" ;;
        build-runner) printf '%s' "$BUILD_RUNNER_PORT" ;;
        replay) printf '%s' "$REPLAY_PORT" ;;
        artifact) printf '%s' "$ARTIFACT_PORT" ;;
        image-cache) printf '%s' "$IMAGE_CACHE_PORT" ;;
        *) die "unknown service '$1' (one of: ${SERVICES[*]})" ;;
    esac
}

jar_of() { printf '%s/%s-service/target/quarkus-app/quarkus-run.jar' "$REPO_ROOT" "$1"; }

# The pid of a running service we started, or nothing (cleaning a stale pid file).
service_pid() {
    local file pid
    file=$(pidfile "$1")
    [[ -s $file ]] || return 1
    pid=$(<"$file")
    if alive "$pid" && proc_matches "$pid" "$1-service/target/quarkus-app"; then
        printf '%s' "$pid"
        return 0
    fi
    rm -f "$file"
    return 1
}

# HTTP status of /q/health/ready (000 when nothing answers).
ready_status() {
    curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$(management_port_of "$1")/q/health/ready" || true
}

# The secret gateway and replay share for stream tickets: REPRISE_STREAM_SECRET when set, else one
# generated once into .reprise/stream-secret (mode 600, git-ignored), so restarts keep tickets valid.
stream_secret() {
    if [[ -n ${REPRISE_STREAM_SECRET:-} ]]; then
        printf '%s' "$REPRISE_STREAM_SECRET"
        return
    fi
    local file=$REPRISE_HOME/stream-secret
    if [[ ! -s $file ]]; then
        (umask 077 && head -c 32 /dev/urandom | base64 | tr -d '\n=' >"$file")
    fi
    cat "$file"
}

start_service() {
    local svc=$1 jar log pid port
    port=$(port_of "$svc")
    if pid=$(service_pid "$svc"); then
        printf '%-13s running  http://127.0.0.1:%s  (pid %s)\n' "$svc" "$port" "$pid"
        return 0
    fi
    jar=$(jar_of "$svc")
    [[ -f $jar ]] || die "$svc is not built ($(show_path "$jar") is missing): run ./reprise up, or mvn -DskipTests install"
    ! port_open "$port" || die "$svc: port $port is taken by another process; set $(port_var "$svc") to move it"
    ! port_open "$(management_port_of "$svc")" \
        || die "$svc: its management port $(management_port_of "$svc") is taken by another process; set $(port_var "$svc") to move both"
    log=$LOGS/$svc.log
    # Builds must not see the local stack's state: token, secrets, stored data, sockets, logs (the runner's sandbox
    # hides all of REPRISE_HOME; a local repository a build checks out is shown to it read-only).
    # shellcheck disable=SC2086  # JAVA_OPTS is a list of options
    HTTP_PORT=$port MANAGEMENT_PORT=$(management_port_of "$svc") REPRISE_LOCAL_MODE=true REPRISE_TOKEN_FILE=$REPRISE_HOME/token REPRISE_STREAM_SECRET=$(stream_secret) \
        REPRISE_OPERATOR_TOKEN_FILE=$REPRISE_HOME/operator-token ARTIFACT_URL=http://127.0.0.1:$ARTIFACT_PORT \
        RUNNER_SANDBOX_HIDDEN=$REPRISE_HOME RUNNER_CONCURRENCY=${RUNNER_CONCURRENCY:-3} \
        start_java_daemon "$svc" "$log" $JAVA_OPTS -jar "$jar"
    say "$svc starting on port $port (pid $STARTED_PID, log $(show_path "$log"))"
}

# Health and metrics (/q/*) answer on the management port only: the service's port + 1000.
management_port_of() { printf '%s' "$(($(port_of "$1") + 1000))"; }

port_var() { printf '%s_PORT' "$(tr 'a-z-' 'A-Z_' <<<"$1")"; }

wait_ready() {
    local svc=$1 deadline pid
    deadline=$((SECONDS + READY_TIMEOUT))
    until [[ $(ready_status "$svc") == 200 ]]; do
        pid=$(service_pid "$svc") || fail_with_log "$svc exited while starting" "$LOGS/$svc.log"
        if ((SECONDS >= deadline)); then
            curl -s --max-time 5 "http://127.0.0.1:$(management_port_of "$svc")/q/health/ready" >&2 || true
            fail_with_log "$svc (pid $pid) is not ready after ${READY_TIMEOUT}s" "$LOGS/$svc.log"
        fi
        sleep 1
    done
}

status_line() {
    local svc=$1 pid code state
    code=$(ready_status "$svc")
    if pid=$(service_pid "$svc"); then
        case $code in 200) state=ready ;; 503) state=not-ready ;; *) state=starting ;; esac
        printf '%-13s %-9s http://127.0.0.1:%s  (pid %s)\n' "$svc" "$state" "$(port_of "$svc")" "$pid"
        [[ $state == ready ]]
    else
        printf '%-13s stopped   http://127.0.0.1:%s\n' "$svc" "$(port_of "$svc")"
        return 1
    fi
}

main() {
    local cmd=${1:-status} svc rc=0
    shift || true
    local selected=("$@")
    ((${#selected[@]})) || selected=("${SERVICES[@]}")
    for svc in "${selected[@]}"; do port_of "$svc" >/dev/null; done
    mkdir -p "$LOGS" "$RUN"
    case $cmd in
        up)
            for svc in "${selected[@]}"; do start_service "$svc"; done
            for svc in "${selected[@]}"; do wait_ready "$svc"; done
            for svc in "${selected[@]}"; do status_line "$svc"; done
            ;;
        down)
            for svc in "${selected[@]}"; do
                if pid=$(service_pid "$svc"); then
                    stop_pid "$svc" "$pid"
                    rm -f "$(pidfile "$svc")"
                    say "$svc stopped"
                fi
            done
            ;;
        status)
            for svc in "${selected[@]}"; do status_line "$svc" || rc=3; done
            return $rc
            ;;
        *) die "usage: $0 up|down|status [${SERVICES[*]}]" ;;
    esac
}

main "$@"
