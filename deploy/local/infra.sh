#!/usr/bin/env bash
# Local infrastructure for development and tests, without Docker: PostgreSQL, Redis, a single-node
# Kafka broker (KRaft) and an S3 endpoint (s3proxy), all on 127.0.0.1.
#
#   deploy/local/infra.sh up|down|status [postgres|redis|kafka|s3 ...]     (no component = all four)
#
# Addresses come from deploy/local/env.sh (overridable by the environment). State lives under
# ${REPRISE_HOME:-<repo>/.reprise}: data/ (kept across restarts), logs/, lib/ (downloaded jars),
# run/ (pid files; a pid file there means "this script started it and owns it").
#
# PostgreSQL and Redis are reused when something already answers on their port ("external") and
# are then never stopped by `down`; Kafka and S3 always belong to this script.
# `status` exits 0 when every requested component answers, 3 otherwise.
# Never prompts: safe with no stdin and CI=true.
set -euo pipefail

SCRIPT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")
LOG_PREFIX=infra
# shellcheck source=lib.sh
. "$(dirname "$SCRIPT")/lib.sh"

COMPONENTS=(postgres redis kafka s3)
KAFKA_START_TIMEOUT=90
S3_START_TIMEOUT=60
REDIS_START_TIMEOUT=20
PG_START_TIMEOUT=60
# slf4j-simple: timestamps in the broker's log; tools only say what went wrong.
BROKER_LOG_OPTS=(-Dorg.slf4j.simpleLogger.showDateTime=true "-Dorg.slf4j.simpleLogger.dateTimeFormat=yyyy-MM-dd HH:mm:ss.SSS")
# Short-lived tool JVMs (storage format, topics): skip the optimising JIT, they run for ~2 s.
TOOL_JVM_OPTS=(-Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Dorg.slf4j.simpleLogger.defaultLogLevel=warn)

# ---------------------------------------------------------------------------------------------
# Generic helpers
# ---------------------------------------------------------------------------------------------

# pid of whatever listens on PORT (for external services; empty if ss can't tell).
listener_pid() {
    ss -Hltnp "sport = :$1" 2>/dev/null | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -n 1 || true
}

# owned_pid COMP: prints the pid of the running process this script started for COMP.
# A pid file whose process is gone (or is now something else) is removed. A process of ours whose
# pid file was lost is found again through its unique command line or postmaster.pid.
owned_pid() {
    local comp=$1 file pid
    file=$(pidfile "$comp")
    if [[ -s $file ]]; then
        pid=$(<"$file")
        if alive "$pid" && proc_matches "$pid" "$(process_word "$comp")"; then
            printf '%s' "$pid"
            return 0
        fi
        printf 'infra: %s: removing stale pid file (pid %s is gone)\n' "$comp" "$pid" >&2
        rm -f "$file"
    fi
    pid=$(find_lost_pid "$comp")
    if alive "$pid"; then
        printf '%s\n' "$pid" >"$file"
        printf '%s' "$pid"
        return 0
    fi
    return 1
}

# wait_for COMP TIMEOUT LOG PID CHECK...: poll CHECK until it succeeds. Gives up at the timeout,
# or at once when PID (if given) has died, so a crashed daemon doesn't cost the whole timeout;
# a daemon that never became ready is stopped rather than left half-up.
wait_for() {
    local comp=$1 timeout=$2 log=$3 pid=$4 deadline
    shift 4
    deadline=$((SECONDS + timeout))
    until "$@"; do
        if [[ -n $pid ]] && ! alive "$pid"; then
            rm -f "$(pidfile "$comp")"
            fail_with_log "$comp exited while starting on $(addr_of "$comp")" "$log"
        fi
        if ((SECONDS >= deadline)); then
            if [[ -n $pid ]]; then stop_pid "$comp" "$pid" TERM >&2; rm -f "$(pidfile "$comp")"; fi
            fail_with_log "$comp did not start on $(addr_of "$comp") within ${timeout}s" "$log"
        fi
        sleep 0.5
    done
}

# maven WHAT ARGS...: quiet Maven run against the tiny pom in deploy/local/kafka/ (never the
# project's own pom, which someone may be building at the same time), output kept in a log.
maven() {
    local what=$1 log=$LOGS/maven-$1.log
    shift
    command -v mvn >/dev/null || apt_install maven
    mvn -B -q -f "$SCRIPT_DIR/kafka/pom.xml" -Dkafka.version="$(pom_property kafka-broker.version)" "$@" \
        >"$log" 2>&1 </dev/null || fail_with_log "maven could not fetch $what" "$log"
}

# ---------------------------------------------------------------------------------------------
# Per-component facts
# ---------------------------------------------------------------------------------------------

port_of() {
    case $1 in
        postgres) printf '%s' "$PG_PORT" ;;
        redis) printf '%s' "$REDIS_PORT" ;;
        kafka) printf '%s' "$KAFKA_PORT" ;;
        s3) printf '%s' "$S3_PORT" ;;
    esac
}
addr_of() { printf '%s:%s' "$HOST" "$(port_of "$1")"; }

# A word that the command line of the component's process contains.
process_word() {
    case $1 in
        postgres) printf 'postgres' ;;
        redis) printf 'redis-server' ;;
        kafka) printf 'kafka.Kafka' ;;
        s3) printf 's3proxy' ;;
    esac
}

PG_DATA_DIR=$DATA/postgres
PG_SOCKET_DIR=$DATA/postgres-socket
KAFKA_DIR=$DATA/kafka
KAFKA_CONF=$KAFKA_DIR/server.properties
S3_DIR=$DATA/s3
S3_CONF=$S3_DIR/s3proxy.conf

find_lost_pid() {
    case $1 in
        postgres) if [[ -s $PG_DATA_DIR/postmaster.pid ]]; then head -n 1 "$PG_DATA_DIR/postmaster.pid"; fi ;;
        kafka) pgrep -o -f -- "kafka.Kafka $KAFKA_CONF" || true ;;
        s3) pgrep -o -f -- "--properties $S3_CONF" || true ;;
        redis) ;;  # redis rewrites its own pid file in run/; nothing else identifies it
    esac
}

probe_postgres() {
    if command -v pg_isready >/dev/null; then
        pg_isready -q -h "$HOST" -p "$PG_PORT" -t 2
    else
        port_open "$PG_PORT"
    fi
}

probe_redis() {
    if command -v redis-cli >/dev/null; then
        [[ $(timeout 2 redis-cli -h "$HOST" -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]
    else
        # shellcheck disable=SC2016  # expanded by the inner bash
        timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1" && printf "PING\r\n" >&3 &&
            IFS= read -r line <&3 && [[ $line == +PONG* ]]' "$HOST" "$REDIS_PORT" 2>/dev/null
    fi
}

probe_kafka() { port_open "$KAFKA_PORT"; }

# s3proxy answers any request, a 403 for an anonymous one; curl prints 000 when nothing answers.
probe_s3() {
    local code
    code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://$HOST:$S3_PORT/" 2>/dev/null) || true
    [[ $code =~ ^[1-5][0-9][0-9]$ ]]
}

# state COMP: sets PID and OWNER (owned | external | empty) and succeeds when COMP answers.
state() {
    if PID=$(owned_pid "$1"); then OWNER=owned; else PID='' OWNER=''; fi
    if "probe_$1"; then
        if [[ -z $OWNER ]]; then OWNER=external PID=$(listener_pid "$(port_of "$1")"); fi
        return 0
    fi
    return 1
}

# After a successful wait: pick up pid and owner for the status line.
refresh_state() { state "$1" || die "$1 stopped answering on $(addr_of "$1") right after starting"; }

# One line per component, e.g. "kafka     running  127.0.0.1:9092  (pid 1234, owned)".
print_state() {
    local comp=$1 word=$2 detail=
    if [[ -n $OWNER ]]; then detail="  (${PID:+pid $PID, }$OWNER${3:+, $3})"; fi
    printf '%-10s%-9s%s%s\n' "$comp" "$word" "$(addr_of "$comp")" "$detail"
}

# ---------------------------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------------------------

pg_bin_dir() {
    local initdb
    # the newest installed major version
    initdb=$(printf '%s\n' /usr/lib/postgresql/*/bin/initdb | grep -v '\*' | sort -V | tail -n 1 || true)
    [[ -n $initdb ]] && dirname "$initdb"
}

# Run as the postgres OS user (initdb refuses root), from / so it can always read its cwd.
as_postgres() { (cd / && runuser -u postgres -- "$@"); }

# The postgres user must be able to reach its data and log dirs through every parent directory.
make_traversable_for_postgres() {
    local dir=$1
    while [[ $dir != / ]]; do
        if ! runuser -u postgres -- test -x "$dir"; then
            say "postgres: chmod o+x $dir (the postgres user must reach its data dir)"
            chmod o+x "$dir"
        fi
        dir=$(dirname "$dir")
    done
}

start_own_postgres() {
    local bin log=$LOGS/postgres.log
    bin=$(pg_bin_dir) || die "postgres: no initdb under /usr/lib/postgresql/*/bin"
    mkdir -p "$PG_DATA_DIR" "$PG_SOCKET_DIR"
    chown postgres: "$PG_DATA_DIR" "$PG_SOCKET_DIR"
    chmod 700 "$PG_DATA_DIR"
    touch "$log"
    chown postgres: "$log"
    make_traversable_for_postgres "$PG_DATA_DIR"
    make_traversable_for_postgres "$LOGS"
    if [[ ! -s $PG_DATA_DIR/PG_VERSION ]]; then
        say "postgres: initdb $(show_path "$PG_DATA_DIR")"
        # trust: a throwaway cluster reachable only over loopback and its own socket dir
        as_postgres "$bin/initdb" -D "$PG_DATA_DIR" -U postgres --auth=trust -E UTF8 --no-locale \
            >"$LOGS/postgres-initdb.log" 2>&1 || fail_with_log "postgres: initdb failed" "$LOGS/postgres-initdb.log"
    fi
    say "postgres: starting own cluster on $(addr_of postgres)"
    # Settings go on the command line, not into postgresql.conf, so a changed PG_PORT just works.
    # fsync & co. off: test data, and it makes schema setup several times faster.
    as_postgres "$bin/pg_ctl" -D "$PG_DATA_DIR" -l "$log" -w -t "$PG_START_TIMEOUT" start \
        -o "-c listen_addresses=$HOST -p $PG_PORT -k $PG_SOCKET_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        >/dev/null 2>&1 || fail_with_log "postgres did not start on $(addr_of postgres) within ${PG_START_TIMEOUT}s" "$log"
    head -n 1 "$PG_DATA_DIR/postmaster.pid" >"$(pidfile postgres)"
}

# pg_admin_psql SQL PSQL-ARGS...: runs SQL as the cluster's superuser: our own cluster through its
# socket dir; a system cluster as the postgres OS user over its default socket, falling back to
# loopback for a server that isn't Debian's (each attempt gets its own copy of the SQL on stdin).
pg_admin_psql() {
    local sql=$1
    shift
    if [[ $OWNER == owned ]]; then
        psql -X -q -h "$PG_SOCKET_DIR" -p "$PG_PORT" -U postgres -d postgres "$@" <<<"$sql"
    else
        as_postgres psql -X -q -p "$PG_PORT" -d postgres "$@" <<<"$sql" 2>/dev/null \
            || psql -X -q -h "$HOST" -p "$PG_PORT" -U postgres -d postgres "$@" <<<"$sql"
    fi
}

# Idempotent: creates or updates the login role and creates the database owned by it.
ensure_pg_role_and_db() {
    local sql
    command -v psql >/dev/null || apt_install postgresql-client
    sql=$(cat <<'SQL'
SELECT format('CREATE ROLE %I', :'u') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'u') \gexec
SELECT format('ALTER ROLE %I LOGIN CREATEDB PASSWORD %L', :'u', :'p') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'d', :'u') WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'d') \gexec
SELECT format('ALTER DATABASE %I OWNER TO %I', :'d', :'u') \gexec
SQL
    )
    pg_admin_psql "$sql" -v ON_ERROR_STOP=1 -v u="$PG_USER" -v p="$PG_PASSWORD" -v d="$PG_DATABASE" >/dev/null \
        || die "postgres: could not create role $PG_USER / database $PG_DATABASE on $(addr_of postgres)"
}

up_postgres() {
    if ! state postgres; then
        if [[ -z $OWNER ]]; then
            if ! pg_bin_dir >/dev/null; then
                apt_install postgresql
            fi
            # The package may have started its own cluster on this port: then use that one.
            if ! state postgres; then start_own_postgres; fi
        fi
        wait_for postgres "$PG_START_TIMEOUT" "$LOGS/postgres.log" "$PID" probe_postgres
        refresh_state postgres
    fi
    ensure_pg_role_and_db
    DETAIL="db $PG_DATABASE, user $PG_USER"
}

# ---------------------------------------------------------------------------------------------
# Redis
# ---------------------------------------------------------------------------------------------

up_redis() {
    if ! state redis && [[ -z $OWNER ]]; then
        if ! command -v redis-server >/dev/null; then
            apt_install redis-server
        fi
        # Like postgresql, the package may have started a server on this port.
        if ! state redis; then
            say "redis: starting on $(addr_of redis)"
            mkdir -p "$DATA/redis"
            rotate_log "$LOGS/redis.log"
            redis-server --daemonize yes --bind "$HOST" --port "$REDIS_PORT" --save "" --appendonly no \
                --dir "$DATA/redis" --pidfile "$(pidfile redis)" --logfile "$LOGS/redis.log" </dev/null >/dev/null \
                || fail_with_log "redis-server failed to start on $(addr_of redis)" "$LOGS/redis.log"
        fi
    fi
    # redis writes its pid file itself after daemonizing, so there is no pid to watch yet
    wait_for redis "$REDIS_START_TIMEOUT" "$LOGS/redis.log" "" probe_redis
    refresh_state redis
}

# ---------------------------------------------------------------------------------------------
# Kafka (KRaft, single node: broker and controller in one JVM)
# ---------------------------------------------------------------------------------------------

kafka_lib() { printf '%s/kafka-%s' "$LIB" "$(pom_property kafka-broker.version)"; }

# The marker holds a checksum of the pom, so editing the pom (say, another logging backend)
# fetches the jars again instead of running with the old set.
ensure_kafka_jars() {
    local lib sum
    lib=$(kafka_lib)
    sum=$(sha256sum <"$SCRIPT_DIR/kafka/pom.xml")
    [[ -f $lib/.complete && $(<"$lib/.complete") == "$sum" ]] && return 0
    say "kafka: fetching the broker jars ($(basename "$lib")) with Maven"
    rm -rf "$lib"   # an interrupted copy would be an inconsistent classpath
    mkdir -p "$lib"
    maven kafka-jars dependency:copy-dependencies -DoutputDirectory="$lib" -DincludeScope=runtime
    printf '%s\n' "$sum" >"$lib/.complete"
}

# Rewritten on every start so that changed ports apply; the data in log.dirs is kept.
write_kafka_config() {
    mkdir -p "$KAFKA_DIR/logs"
    cat >"$KAFKA_CONF" <<EOF
# Generated by deploy/local/infra.sh on every start: edit the script, not this file.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$KAFKA_DIR/logs
# one broker: every internal topic can only have one replica
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
min.insync.replicas=1
# tests start consumers right away; the 3 s default delay only slows the first rebalance
group.initial.rebalance.delay.ms=0
# topics come from deploy/local/kafka-topics.conf; a typo must fail, not create a new topic
auto.create.topics.enable=false
num.partitions=3
EOF
}

format_kafka_storage() {
    [[ -f $KAFKA_DIR/logs/meta.properties ]] && return 0
    local lib uuid log=$LOGS/kafka-format.log
    lib=$(kafka_lib)
    say "kafka: formatting storage in $(show_path "$KAFKA_DIR/logs")"
    uuid=$("$JAVA" "${TOOL_JVM_OPTS[@]}" -cp "$lib/*" kafka.tools.StorageTool random-uuid 2>"$log") \
        || fail_with_log "kafka: StorageTool random-uuid failed" "$log"
    "$JAVA" "${TOOL_JVM_OPTS[@]}" -cp "$lib/*" kafka.tools.StorageTool format -t "$uuid" -c "$KAFKA_CONF" \
        >>"$log" 2>&1 </dev/null || fail_with_log "kafka: formatting storage failed" "$log"
}

kafka_ready() { grep -q 'Kafka Server started' "$LOGS/kafka.log" 2>/dev/null && port_open "$KAFKA_PORT"; }

# Creates the topics of deploy/local/kafka-topics.conf that don't exist yet. kafka/EnsureTopics.java
# runs through Java's single-file source launcher (needs a JDK, as Maven does): it lists, compares
# and creates in one JVM, ~2.5 s whether 0 or 6 topics are missing, where TopicCommand would take
# one JVM start (~2 s here) per topic.
ensure_kafka_topics() {
    local log=$LOGS/kafka-topics.log created
    created=$("$JAVA" "${TOOL_JVM_OPTS[@]}" -cp "$(kafka_lib)/*" "$SCRIPT_DIR/kafka/EnsureTopics.java" \
        "$KAFKA_BOOTSTRAP_SERVERS" "$SCRIPT_DIR/kafka-topics.conf" </dev/null 2>"$log") \
        || fail_with_log "kafka: creating the topics of $(show_path "$SCRIPT_DIR/kafka-topics.conf") failed" "$log"
    grep -h '^warning:' "$log" | sed 's/^/infra: kafka: /' || true
    if [[ -n $created ]]; then say "kafka: created topics ${created//$'\n'/ }"; fi
}

up_kafka() {
    if state kafka; then
        if [[ $OWNER != owned ]]; then
            # Someone else's broker (another checkout's, a shared dev one): use it, as with an
            # external PostgreSQL; it only needs our topics. If it is not Kafka, this fails loudly.
            say "kafka: reusing the broker already answering on $(addr_of kafka)${PID:+ (pid $PID)}"
            ensure_kafka_jars
            ensure_kafka_topics
        fi
        return 0
    fi
    if [[ -z $OWNER ]]; then
        ! port_open "$KAFKA_CONTROLLER_PORT" \
            || die "kafka: controller port $HOST:$KAFKA_CONTROLLER_PORT is taken by another process (pid $(listener_pid "$KAFKA_CONTROLLER_PORT"))"
        ensure_kafka_jars
        write_kafka_config
        format_kafka_storage
        say "kafka: starting on $(addr_of kafka)"
        start_java_daemon kafka "$LOGS/kafka.log" -Xms256m -Xmx512m "${BROKER_LOG_OPTS[@]}" -cp "$(kafka_lib)/*" kafka.Kafka "$KAFKA_CONF"
        PID=$STARTED_PID
    fi
    wait_for kafka "$KAFKA_START_TIMEOUT" "$LOGS/kafka.log" "$PID" kafka_ready
    ensure_kafka_topics
    refresh_state kafka
}

# ---------------------------------------------------------------------------------------------
# S3 (s3proxy over a local directory)
# ---------------------------------------------------------------------------------------------

s3_jar() { printf '%s/s3proxy-%s-jar-with-dependencies.jar' "$LIB" "$(pom_property s3proxy.version)"; }

ensure_s3_jar() {
    local jar tmp
    jar=$(s3_jar)
    [[ -s $jar ]] && return 0
    say "s3: fetching $(basename "$jar") with Maven"
    tmp=$LIB/.s3proxy-download   # copied there first so an interrupted download never looks complete
    rm -rf "$tmp"
    maven s3proxy dependency:copy -Dartifact="org.gaul:s3proxy:$(pom_property s3proxy.version):jar:jar-with-dependencies" \
        -DoutputDirectory="$tmp"
    mv "$tmp/$(basename "$jar")" "$jar"
    rm -rf "$tmp"
}

write_s3_config() {
    mkdir -p "$S3_DIR/blobs"
    (
        umask 077   # it holds the secret key
        cat >"$S3_CONF" <<EOF
# Generated by deploy/local/infra.sh on every start: edit the script, not this file.
s3proxy.endpoint=http://$HOST:$S3_PORT
s3proxy.authorization=aws-v2-or-v4
s3proxy.identity=$S3_ACCESS_KEY
s3proxy.credential=$S3_SECRET_KEY
jclouds.provider=filesystem
jclouds.filesystem.basedir=$S3_DIR/blobs
EOF
    )
}

up_s3() {
    if state s3; then
        [[ $OWNER == owned ]] || say "s3: reusing the S3 endpoint already answering on $(addr_of s3)${PID:+ (pid $PID)}"
        return 0
    fi
    if [[ -z $OWNER ]]; then
        ensure_s3_jar
        write_s3_config
        say "s3: starting s3proxy on $(addr_of s3)"
        start_java_daemon s3 "$LOGS/s3.log" -Xmx256m -jar "$(s3_jar)" --properties "$S3_CONF"
        PID=$STARTED_PID
    fi
    wait_for s3 "$S3_START_TIMEOUT" "$LOGS/s3.log" "$PID" probe_s3
    refresh_state s3
}

# ---------------------------------------------------------------------------------------------
# Actions
# ---------------------------------------------------------------------------------------------

# Each up_COMP returns with COMP answering and PID/OWNER set (or exits with the reason);
# a component that already runs is left as it is.
do_up() {
    local comp start
    for comp in "$@"; do
        start=$SECONDS DETAIL=''
        "up_$comp"
        if ((SECONDS - start > 1)); then DETAIL+="${DETAIL:+, }ready in $((SECONDS - start))s"; fi
        print_state "$comp" running "$DETAIL"
    done
}

# Stops only what this script started; an external PostgreSQL/Redis is left alone.
do_down() {
    local comp pid sig stray
    for comp in "$@"; do
        if pid=$(owned_pid "$comp"); then
            # postgres: SIGINT is its "fast" shutdown; SIGTERM would wait for clients to leave
            sig=TERM
            [[ $comp == postgres ]] && sig=INT
            stop_pid "$comp" "$pid" "$sig"
            rm -f "$(pidfile "$comp")"
            # verify: no process of ours left behind (e.g. a second copy whose pid file was lost)
            stray=$(find_lost_pid "$comp")
            if alive "$stray"; then stop_pid "$comp" "$stray" "$sig"; fi
            ! port_open "$(port_of "$comp")" || die "$comp: $(addr_of "$comp") still answers after stopping pid $pid"
            OWNER='' PID=''
            print_state "$comp" stopped
        elif state "$comp"; then
            print_state "$comp" running "left running"
        else
            print_state "$comp" stopped
        fi
    done
}

do_status() {
    local comp rc=0
    for comp in "$@"; do
        if state "$comp"; then
            print_state "$comp" running
        elif [[ -n $OWNER ]]; then
            print_state "$comp" starting "not answering yet"
            rc=3
        else
            print_state "$comp" stopped
            rc=3
        fi
    done
    return "$rc"
}

usage() {
    local IFS='|'
    echo "usage: $(show_path "$SCRIPT") up|down|status [${COMPONENTS[*]} ...]" >&2
    exit 2
}

main() {
    local action=${1:-} comp
    [[ $action == up || $action == down || $action == status ]] || usage
    shift
    for comp in "$@"; do
        [[ " ${COMPONENTS[*]} " == *" $comp "* ]] || usage
    done
    (($#)) || set -- "${COMPONENTS[@]}"
    mkdir -p "$DATA" "$LOGS" "$LIB" "$RUN"

    # up/down hold a lock so two of them (say, two test scripts) can't start a second broker.
    # flock -o keeps the lock in flock's own process: daemons started by us don't inherit it.
    if [[ $action != status && -z ${INFRA_LOCKED:-} ]]; then
        local rc=0
        INFRA_LOCKED=1 flock -o -w 600 -E 75 "$RUN/infra.lock" bash "$SCRIPT" "$action" "$@" || rc=$?
        ((rc != 75)) || die "another infra.sh up/down held $(show_path "$RUN/infra.lock") for 600s"
        exit "$rc"
    fi
    "do_$action" "$@"
}

main "$@"
