#!/usr/bin/env bash
# Local infrastructure for development and tests, without Docker: PostgreSQL, Redis, a single-node
# Kafka broker (KRaft), an S3 endpoint (s3proxy), all on 127.0.0.1, and `images`: an OCI registry
# on 127.0.0.1 plus podman's Docker-Engine-compatible API on a unix socket (DOCKER_HOST), with a
# local Debian base image in that registry.
#
#   deploy/local/infra.sh up|down|status [postgres|redis|kafka|s3|images ...]   (no component = all)
#
# Addresses come from deploy/local/env.sh (overridable by the environment). State lives under
# ${REPRISE_HOME:-<repo>/.reprise}: data/ (kept across restarts), logs/, lib/ (downloaded jars),
# run/ (pid files; a pid file there means "this script started it and owns it").
#
# PostgreSQL and Redis are reused when something already answers on their port ("external") and
# are then never stopped by `down`; Kafka and S3 always belong to this script. So does the podman
# service of `images` (its socket is in run/); a registry already answering on REGISTRY_PORT is
# reused like an external PostgreSQL.
# `status` exits 0 when every requested component answers, 3 otherwise.
# Never prompts: safe with no stdin and CI=true.
set -euo pipefail

SCRIPT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")
LOG_PREFIX=infra
# shellcheck source=lib.sh
. "$(dirname "$SCRIPT")/lib.sh"

COMPONENTS=(postgres redis kafka s3 images)
KAFKA_START_TIMEOUT=90
S3_START_TIMEOUT=60
REDIS_START_TIMEOUT=20
PG_START_TIMEOUT=60
REGISTRY_START_TIMEOUT=30
PODMAN_START_TIMEOUT=60
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

# move_beside COMP VAR WHY: the store answering on COMP's port is not ours and does not check
# passwords. Reprise will not keep its data (tokens, builds, the index of every tenant's artifacts)
# where anyone on the machine can read and change it. When the port is env.sh's default, the store
# is the machine's to keep: Reprise runs its own on the next free port and records that port in
# $REPRISE_HOME/stores.env, which env.sh reads from then on. A port the caller chose is refused.
move_beside() {
    local comp=$1 var=$2 why=$3 port
    if [[ ${REPRISE_DEFAULTED:-} != *" $var "* ]]; then
        die "$comp on $(addr_of "$comp") $why, and $var=${!var} was chosen explicitly: Reprise will not keep its data there. Make it ask for a password (PostgreSQL: scram-sha-256 in pg_hba.conf; Redis: requirepass = REDIS_PASSWORD), or unset $var so that infra.sh runs its own"
    fi
    port=${!var}
    while ((++port < 65536)); do
        [[ -z $(ss -Hltn "sport = :$port" 2>/dev/null) ]] && ! port_open "$port" && break
    done
    say "$comp: the one on $(addr_of "$comp") $why; Reprise runs its own on $HOST:$port instead (recorded in $(show_path "$REPRISE_HOME/stores.env"); env.sh exports it)"
    (umask 077 && { grep -v "^$var=" "$REPRISE_HOME/stores.env" 2>/dev/null || true; printf '%s=%s\n' "$var" "$port"; } >"$REPRISE_HOME/stores.env.new" \
        && mv "$REPRISE_HOME/stores.env.new" "$REPRISE_HOME/stores.env")
    printf -v "$var" '%s' "$port"
    export "${var?}"
    PID='' OWNER=''
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
        images | registry) printf '%s' "$REGISTRY_PORT" ;;
        podman) ;;   # a unix socket
    esac
}
addr_of() {
    case $1 in
        podman) printf 'unix://%s' "$PODMAN_SOCK" ;;
        *) printf '%s:%s' "$HOST" "$(port_of "$1")" ;;
    esac
}

# A word that the command line of the component's process contains.
process_word() {
    case $1 in
        postgres) printf 'postgres' ;;
        redis) printf 'redis-server' ;;
        kafka) printf 'kafka.Kafka' ;;
        s3) printf 's3proxy' ;;
        registry) printf 'docker-registry' ;;
        podman) printf 'podman' ;;
    esac
}

PG_DATA_DIR=$DATA/postgres
PG_SOCKET_DIR=$DATA/postgres-socket
KAFKA_DIR=$DATA/kafka
KAFKA_CONF=$KAFKA_DIR/server.properties
S3_DIR=$DATA/s3
S3_CONF=$S3_DIR/s3proxy.conf
# images: two daemons, `registry` and `podman` (the names of their pid files and log files)
IMAGES_DIR=$DATA/images
REGISTRY_CONF=$IMAGES_DIR/registry.yml
PODMAN_SOCK=$RUN/podman.sock

find_lost_pid() {
    case $1 in
        postgres) if [[ -s $PG_DATA_DIR/postmaster.pid ]]; then head -n 1 "$PG_DATA_DIR/postmaster.pid"; fi ;;
        kafka) pgrep -o -f -- "kafka.Kafka $KAFKA_CONF" || true ;;
        s3) pgrep -o -f -- "--properties $S3_CONF" || true ;;
        registry) pgrep -o -f -- "docker-registry serve $REGISTRY_CONF" || true ;;
        podman) pgrep -o -f -- "system service --time=0 unix://$PODMAN_SOCK" || true ;;
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

probe_redis() { [[ $(redis_plain_ping) =~ ^(PONG|NOAUTH) ]]; }

probe_kafka() { port_open "$KAFKA_PORT"; }

# s3proxy answers any request, a 403 for an anonymous one; curl prints 000 when nothing answers.
probe_s3() {
    local code
    code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://$HOST:$S3_PORT/" 2>/dev/null) || true
    [[ $code =~ ^[1-5][0-9][0-9]$ ]]
}

# state COMP: sets PID and OWNER (owned | external | empty) and succeeds when COMP answers.
# STATE_DETAIL: more for the status line (images has two daemons).
state() {
    STATE_DETAIL=''
    if [[ $1 == images ]]; then state_images; return; fi
    if PID=$(owned_pid "$1"); then OWNER=owned; else PID='' OWNER=''; fi
    if "probe_$1"; then
        if [[ -z $OWNER ]]; then
            OWNER=external PID=''
            if [[ -n $(port_of "$1") ]]; then PID=$(listener_pid "$(port_of "$1")"); fi
        fi
        return 0
    fi
    return 1
}

# After a successful wait: pick up pid and owner for the status line.
refresh_state() { state "$1" || die "$1 stopped answering on $(addr_of "$1") right after starting"; }

# One line per component, e.g. "kafka     running  127.0.0.1:9092  (pid 1234, owned)".
print_state() {
    local comp=$1 word=$2 detail=
    if [[ -n $OWNER ]]; then detail="${PID:+pid $PID, }$OWNER"; fi
    if [[ -n ${STATE_DETAIL:-} ]]; then detail+="${detail:+, }$STATE_DETAIL"; fi
    if [[ -n $detail && -n ${3:-} ]]; then detail+=", $3"; fi
    printf '%-10s%-9s%s%s\n' "$comp" "$word" "$(addr_of "$comp")" "${detail:+  ($detail)}"
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
# It gets that through an ACL entry for itself alone (setfacl u:postgres:x): the state dir stays
# closed to everyone else, builds' uids included (o+x would open it, and /root above a checkout).
make_traversable_for_postgres() {
    local dir=$1
    while [[ $dir != / ]]; do
        if ! runuser -u postgres -- test -x "$dir"; then
            command -v setfacl >/dev/null || apt_install acl
            say "postgres: letting the postgres user (only) through $dir (setfacl -m u:postgres:x)"
            setfacl -m u:postgres:x "$dir" || die "postgres: setfacl failed on $dir (a file system without ACLs?): set PG_PORT to a PostgreSQL that asks for passwords instead"
        fi
        dir=$(dirname "$dir")
    done
}

start_own_postgres() {
    local bin log=$LOGS/postgres.log
    bin=$(pg_bin_dir) || die "postgres: no initdb under /usr/lib/postgresql/*/bin"
    mkdir -p "$PG_DATA_DIR" "$PG_SOCKET_DIR"
    chown postgres: "$PG_DATA_DIR" "$PG_SOCKET_DIR"
    # The socket dir is the superuser's way in (trust): only postgres (and root) may enter it.
    chmod 700 "$PG_DATA_DIR" "$PG_SOCKET_DIR"
    touch "$log"
    chown postgres: "$log"
    make_traversable_for_postgres "$PG_DATA_DIR"
    make_traversable_for_postgres "$LOGS"
    if [[ ! -s $PG_DATA_DIR/PG_VERSION ]]; then
        say "postgres: initdb $(show_path "$PG_DATA_DIR")"
        as_postgres "$bin/initdb" -D "$PG_DATA_DIR" -U postgres --auth-local=trust --auth-host=scram-sha-256 -E UTF8 \
            --no-locale >"$LOGS/postgres-initdb.log" 2>&1 || fail_with_log "postgres: initdb failed" "$LOGS/postgres-initdb.log"
    fi
    write_pg_hba >/dev/null
    say "postgres: starting own cluster on $(addr_of postgres)"
    # Settings go on the command line, not into postgresql.conf, so a changed PG_PORT just works.
    # fsync & co. off: test data, and it makes schema setup several times faster.
    as_postgres "$bin/pg_ctl" -D "$PG_DATA_DIR" -l "$log" -w -t "$PG_START_TIMEOUT" start \
        -o "-c listen_addresses=$HOST -p $PG_PORT -k $PG_SOCKET_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        >/dev/null 2>&1 || fail_with_log "postgres did not start on $(addr_of postgres) within ${PG_START_TIMEOUT}s" "$log"
    head -n 1 "$PG_DATA_DIR/postmaster.pid" >"$(pidfile postgres)"
}

# Our cluster's access rules, rewritten at every start (a cluster made before passwords were checked
# trusted everyone): the superuser only through the owner-only socket dir; over TCP, a password
# (SCRAM) for every role. Prints "changed" when the file was different.
write_pg_hba() {
    local hba=$PG_DATA_DIR/pg_hba.conf want
    want=$(printf '%s\n' '# written by deploy/local/infra.sh at every start' \
        'local all all trust' 'host all all 127.0.0.1/32 scram-sha-256' 'host all all ::1/128 scram-sha-256')
    if [[ $(cat "$hba" 2>/dev/null) != "$want" ]]; then
        printf '%s\n' "$want" >"$hba"
        chown postgres: "$hba"
        chmod 600 "$hba"
        echo changed
    fi
}

# True when PostgreSQL lets USER in over TCP with a password that is not theirs (trust).
pg_accepts_any_password() {
    PGPASSWORD="not-${PG_PASSWORD}" PGCONNECT_TIMEOUT=5 psql -X -w -q -h "$HOST" -p "$PG_PORT" -U "$1" -d "$2" \
        -c 'SELECT 1' </dev/null >/dev/null 2>&1
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
    if state postgres && [[ $OWNER == external ]] && pg_accepts_any_password postgres postgres; then
        move_beside postgres PG_PORT "lets anyone on this machine in without a password (trust)"
    fi
    if ! state postgres; then
        if [[ -z $OWNER ]]; then
            if ! pg_bin_dir >/dev/null; then
                apt_install postgresql
            fi
            # The package may have started its own cluster on this port (Debian's asks for passwords
            # over TCP): then use that one, unless it trusts everyone.
            if state postgres && pg_accepts_any_password postgres postgres; then
                move_beside postgres PG_PORT "lets anyone on this machine in without a password (trust)"
            fi
            if ! state postgres; then start_own_postgres; fi
        fi
        wait_for postgres "$PG_START_TIMEOUT" "$LOGS/postgres.log" "$PID" probe_postgres
        refresh_state postgres
    elif [[ $OWNER == owned && $(write_pg_hba) == changed ]]; then
        say "postgres: own cluster now asks every TCP client for its password"
        as_postgres "$(pg_bin_dir)/pg_ctl" -D "$PG_DATA_DIR" reload >/dev/null
    fi
    ensure_pg_role_and_db
    # The role's password must be what lets it in: a server that still trusts it would hand
    # Reprise's data to anyone who asks.
    if pg_accepts_any_password "$PG_USER" "$PG_DATABASE"; then
        [[ $OWNER == external ]] || die "postgres: own cluster on $(addr_of postgres) accepts any password for $PG_USER; see $(show_path "$PG_DATA_DIR/pg_hba.conf")"
        move_beside postgres PG_PORT "lets $PG_USER in without its password (trust in pg_hba.conf)"
        up_postgres
        return
    fi
    DETAIL="db $PG_DATABASE, user $PG_USER, password checked"
}

# ---------------------------------------------------------------------------------------------
# Redis
# ---------------------------------------------------------------------------------------------

# What Redis answers to a PING without a password: PONG when anyone may use it, NOAUTH... when it
# asks for one; empty when nothing answers.
redis_plain_ping() {
    if command -v redis-cli >/dev/null; then
        env -u REDISCLI_AUTH timeout 2 redis-cli -h "$HOST" -p "$REDIS_PORT" ping 2>/dev/null || true
    else
        # shellcheck disable=SC2016  # expanded by the inner bash
        timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1" && printf "PING\r\n" >&3 && IFS= read -r line <&3 &&
            printf "%s" "${line#[+-]}"' "$HOST" "$REDIS_PORT" 2>/dev/null | tr -d '\r' || true
    fi
}
# Succeeds when REDIS_PASSWORD opens it (the password goes through the environment, not argv).
redis_ours_opens() {
    [[ $(REDISCLI_AUTH=$REDIS_PASSWORD timeout 2 redis-cli --no-auth-warning -h "$HOST" -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]
}

# Our own Redis's settings, in a file only root reads (it holds the password; argv would show it to
# anyone on the machine). A memory cap with allkeys-lru: it is a cache, and must never take the host.
write_redis_conf() {
    local conf=$DATA/redis/redis.conf
    mkdir -p "$DATA/redis"
    (umask 077 && cat >"$conf" <<CONF
bind $HOST
port $REDIS_PORT
daemonize yes
save ""
appendonly no
dir $DATA/redis
pidfile $(pidfile redis)
logfile $LOGS/redis.log
requirepass $REDIS_PASSWORD
maxmemory ${REDIS_MAXMEMORY:-256mb}
maxmemory-policy allkeys-lru
CONF
    )
    printf '%s' "$conf"
}

up_redis() {
    if ! state redis && [[ -z $OWNER ]]; then
        if ! command -v redis-server >/dev/null; then
            apt_install redis-server
        fi
        # Like postgresql, the package may have started a server on this port (checked below).
        state redis || true
    fi
    if [[ $OWNER == external ]]; then
        if [[ $(redis_plain_ping) == PONG ]]; then
            move_beside redis REDIS_PORT "answers anyone without a password"
        elif ! redis_ours_opens; then
            die "redis on $(addr_of redis) asks for a password and REDIS_PASSWORD is not it: set REDIS_PASSWORD to its password, or REDIS_PORT to a free port for Reprise's own Redis"
        fi
    fi
    if ! state redis && [[ -z $OWNER ]]; then
        say "redis: starting on $(addr_of redis)"
        rotate_log "$LOGS/redis.log"
        redis-server "$(write_redis_conf)" </dev/null >/dev/null \
            || fail_with_log "redis-server failed to start on $(addr_of redis)" "$LOGS/redis.log"
    fi
    # redis writes its pid file itself after daemonizing, so there is no pid to watch yet
    wait_for redis "$REDIS_START_TIMEOUT" "$LOGS/redis.log" "" probe_redis
    refresh_state redis
    if [[ $OWNER == owned && $(redis_plain_ping) == PONG ]]; then
        # ours, started before Redis had a password: give it one now (and the cap) without a restart
        say "redis: own server on $(addr_of redis) now asks for REDIS_PASSWORD"
        env -u REDISCLI_AUTH redis-cli -h "$HOST" -p "$REDIS_PORT" config set maxmemory-policy allkeys-lru >/dev/null
        printf '%s' "$REDIS_PASSWORD" | env -u REDISCLI_AUTH redis-cli -h "$HOST" -p "$REDIS_PORT" -x config set requirepass >/dev/null
    fi
    redis_ours_opens || die "redis on $(addr_of redis) does not accept REDIS_PASSWORD"
    DETAIL="password checked"
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
# Images: an OCI registry (Debian's docker-registry, CNCF distribution) on HOST:REGISTRY_PORT and
# podman's Docker-Engine-compatible API on unix://run/podman.sock (DOCKER_HOST in env.sh), with
# the project's own containers.conf, storage.conf and registries.conf; plus a Debian base image
# (debootstrap minbase) built once into the registry as BASE_IMAGE.
# ---------------------------------------------------------------------------------------------

IMAGE_PACKAGES=(docker-registry buildah skopeo busybox-static debootstrap podman runc catatonit)
CONTAINERS_CONF_FILE=$IMAGES_DIR/containers.conf
STORAGE_CONF_FILE=$IMAGES_DIR/storage.conf
REGISTRIES_CONF_FILE=$IMAGES_DIR/registries.conf
PODMAN_GRAPHROOT=$IMAGES_DIR/storage         # images and containers: kept across restarts
PODMAN_RUNROOT=$RUN/containers               # runroot and tmp_dir describe running processes:
PODMAN_TMPDIR=$RUN/libpod                    # reset after a reboot (see reset_podman_run_state)
CONTAINERS_ENV=(CONTAINERS_CONF="$CONTAINERS_CONF_FILE" CONTAINERS_STORAGE_CONF="$STORAGE_CONF_FILE"
    CONTAINERS_REGISTRIES_CONF="$REGISTRIES_CONF_FILE")
BASE_SUITE=bookworm
BASE_REPO=reprise/base
BASE_IMAGE=$HOST:$REGISTRY_PORT/$BASE_REPO:$BASE_SUITE
BASE_DIR=$IMAGES_DIR/base                    # the rootfs tar and the Containerfile: the build context
# The name changes with what goes into the rootfs (v2: CA certificates), so an older one is rebuilt.
BASE_TAR=$BASE_DIR/rootfs-v2.tar

# podman with the project's configuration (the CLI and the service share storage, with locks).
podman_cmd() { env "${CONTAINERS_ENV[@]}" podman "$@"; }

ensure_image_packages() {
    local pkg missing=()
    for pkg in "${IMAGE_PACKAGES[@]}"; do
        [[ $(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null) == ii* ]] || missing+=("$pkg")
    done
    ((${#missing[@]} == 0)) || apt_install "${missing[@]}"
}

# The registry sends this header on /v2/ (200, or 401 behind auth); other HTTP servers don't.
probe_registry() {
    curl -s -o /dev/null -D - -m 2 "http://$HOST:$REGISTRY_PORT/v2/" 2>/dev/null \
        | grep -qi '^docker-distribution-api-version: *registry/2'
}

probe_podman() {
    [[ -S $PODMAN_SOCK && $(curl -s -m 2 --unix-socket "$PODMAN_SOCK" http://d/_ping 2>/dev/null) == OK ]]
}

# state images: both daemons answer. OWNER is owned when either daemon is ours, else empty; the
# detail names both (PID stays empty: there are two).
state_images() {
    local registry_up=0 podman_up=0 r_pid r_owner parts=()
    if state registry; then registry_up=1; fi
    r_pid=$PID r_owner=$OWNER
    if state podman; then podman_up=1; fi
    if ((!registry_up && !podman_up)) && [[ -z $r_owner && -z $OWNER ]]; then
        PID='' OWNER='' STATE_DETAIL=''
        return 1
    fi
    if [[ $r_owner == owned ]]; then
        parts+=("registry pid $r_pid$( ((registry_up)) || printf ' not answering')")
    elif ((registry_up)); then
        parts+=("external registry${r_pid:+ pid $r_pid}")
    else
        parts+=("registry down")
    fi
    if [[ $OWNER == owned ]]; then
        parts+=("docker API pid $PID $( ((podman_up)) && printf 'on' || printf 'not answering on') $(addr_of podman)")
    elif ((podman_up)); then
        parts+=("docker API on $(addr_of podman) (not started by this script)")
    else
        parts+=("docker API down")
    fi
    if ((registry_up)) && ! base_image_in_registry; then parts+=("no base image yet"); fi
    if [[ $r_owner == owned || $OWNER == owned ]]; then OWNER=owned; else OWNER=''; fi
    PID=''
    local IFS=,
    STATE_DETAIL=${parts[*]}
    STATE_DETAIL=${STATE_DETAIL//,/, }
    ((registry_up && podman_up))
}

# Rewritten on every start so that a changed REGISTRY_PORT applies; the blobs are kept.
# Log level warn: errors only (a pull of a missing tag is one). Every request, with its status,
# is logged at info: REGISTRY_LOG_LEVEL=info in the environment of `up` overrides the file.
write_registry_config() {
    mkdir -p "$IMAGES_DIR/registry"
    cat >"$REGISTRY_CONF" <<EOF
# Generated by deploy/local/infra.sh on every start: edit the script, not this file.
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: "$IMAGES_DIR/registry"
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
http:
  addr: "$HOST:$REGISTRY_PORT"
  # signs upload-session state only; one registry on loopback needs no real secret
  secret: reprise-local-registry
EOF
}

up_registry() {
    if state registry; then
        [[ $OWNER == owned ]] || say "images: reusing the registry already answering on $(addr_of registry)${PID:+ (pid $PID)}"
        return 0
    fi
    if [[ $OWNER == owned ]] && ! grep -qF "addr: \"$HOST:$REGISTRY_PORT\"" "$REGISTRY_CONF" 2>/dev/null; then
        die "images: our registry (pid $PID) serves $(sed -n 's/^ *addr: "\(.*\)"/\1/p' "$REGISTRY_CONF" 2>/dev/null), not $(addr_of registry): run $(show_path "$SCRIPT") down images first"
    fi
    if [[ -z $OWNER ]]; then
        if port_open "$REGISTRY_PORT"; then
            PID=$(listener_pid "$REGISTRY_PORT")
            die "images: $(addr_of registry) is taken by a process that is not a registry${PID:+ (pid $PID)}; set REGISTRY_PORT to move ours"
        fi
        write_registry_config
        say "images: starting the registry on $(addr_of registry)"
        # The registry reads REGISTRY_* variables as configuration: not env.sh's.
        start_daemon registry "$LOGS/registry.log" env -u REGISTRY_PORT -u REGISTRY_HOST -u REGISTRY_URL \
            docker-registry serve "$REGISTRY_CONF"
        PID=$STARTED_PID
    fi
    wait_for registry "$REGISTRY_START_TIMEOUT" "$LOGS/registry.log" "$PID" probe_registry
}

# The storage driver is chosen once, when the storage is created: overlay (about 4x smaller on
# disk than vfs) if the kernel lets us mount it here, else vfs. The choice is kept next to the
# storage, which can't switch drivers later.
storage_driver() {
    local file=$IMAGES_DIR/storage-driver log=$LOGS/podman-storage.log
    if [[ -s $file ]]; then cat "$file"; return 0; fi
    if [[ -d $PODMAN_GRAPHROOT/vfs ]]; then echo vfs >"$file"; cat "$file"; return 0; fi
    write_storage_config overlay
    if podman_cmd info >"$log" 2>&1 </dev/null; then
        echo overlay >"$file"
    else
        say "images: overlay storage does not work here (see $(show_path "$log")), using vfs" >&2
        rm -rf --one-file-system "$PODMAN_GRAPHROOT" "$PODMAN_RUNROOT"
        echo vfs >"$file"
    fi
    cat "$file"
}

write_storage_config() {
    cat >"$STORAGE_CONF_FILE" <<EOF
# Generated by deploy/local/infra.sh on every start: edit the script, not this file.
[storage]
driver = "$1"
graphroot = "$PODMAN_GRAPHROOT"
runroot = "$PODMAN_RUNROOT"

[storage.options.overlay]
mountopt = "nodev"
EOF
}

# Rewritten on every start. default_ulimits: root can't raise rlimits in this sandbox and podman's
# defaults ask for more (setrlimit fails); crun fails on hybrid cgroups; no systemd or journald.
write_containers_config() {
    local driver
    mkdir -p "$IMAGES_DIR" "$PODMAN_GRAPHROOT"
    cat >"$CONTAINERS_CONF_FILE" <<EOF
# Generated by deploy/local/infra.sh on every start: edit the script, not this file.
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = "$PODMAN_TMPDIR"
EOF
    cat >"$REGISTRIES_CONF_FILE" <<EOF
# Generated by deploy/local/infra.sh on every start: edit the script, not this file.
# Only fully qualified image names: nothing is looked up on a public registry.
unqualified-search-registries = []

# the local registry speaks plain HTTP
[[registry]]
location = "$HOST:$REGISTRY_PORT"
insecure = true

[[registry]]
location = "localhost:$REGISTRY_PORT"
insecure = true
EOF
    driver=$(storage_driver)   # tried with the two files above
    write_storage_config "$driver"
}

# runroot and tmp_dir live in the state dir, not on a tmpfs: after a reboot they still describe
# the previous boot's containers and mounts, and podman would trust them. Wiped on the first start
# of each boot, when no podman of ours runs.
reset_podman_run_state() {
    local boot file=$RUN/podman.boot-id
    boot=$(</proc/sys/kernel/random/boot_id)
    [[ -f $file && $(<"$file") == "$boot" ]] && return 0
    rm -rf --one-file-system "$PODMAN_RUNROOT" "$PODMAN_TMPDIR"
    printf '%s\n' "$boot" >"$file"
}

# A running service only gets the /_ping of `state`; a new one must also answer the Docker API's
# /version (which takes about a second: podman asks conmon and runc for theirs).
up_podman() {
    local version
    state podman && return 0
    if [[ -z $OWNER ]]; then
        # sun_path holds 108 bytes
        ((${#PODMAN_SOCK} < 100)) || die "images: the socket path $PODMAN_SOCK is too long for a unix socket: use a shorter REPRISE_HOME"
        reset_podman_run_state
        write_containers_config
        rm -f "$PODMAN_SOCK"
        say "images: starting podman's Docker API on $(addr_of podman)"
        start_daemon podman "$LOGS/podman.log" env "${CONTAINERS_ENV[@]}" \
            podman --log-level=info system service --time=0 "unix://$PODMAN_SOCK"
        PID=$STARTED_PID
    fi
    wait_for podman "$PODMAN_START_TIMEOUT" "$LOGS/podman.log" "$PID" probe_podman
    version=$(curl -s -m 10 --unix-socket "$PODMAN_SOCK" http://d/v1.41/version 2>/dev/null) || true
    [[ $version == *'"ApiVersion":"1.41"'* ]] \
        || die "images: $(addr_of podman) answers /_ping but not /v1.41/version as API 1.41: $version"
}

base_image_in_registry() {
    local code
    code=$(curl -s -o /dev/null -m 5 -w '%{http_code}' \
        -H 'Accept: application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' \
        "http://$HOST:$REGISTRY_PORT/v2/$BASE_REPO/manifests/$BASE_SUITE" 2>/dev/null) || true
    [[ $code == 200 ]]
}

# The Debian mirror this machine's apt already uses (one-line or deb822 sources).
debian_mirror() {
    local f uri
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -r $f ]] || continue
        uri=$(awk -v s="$BASE_SUITE" '$1 == "deb" {
                i = 2
                if ($2 ~ /^\[/) { while (i < NF && $i !~ /\]$/) i++; i++ }
                if ($(i + 1) == s) { print $i; exit }
            }' "$f")
        if [[ -n $uri ]]; then printf '%s' "${uri%/}"; return 0; fi
    done
    for f in /etc/apt/sources.list.d/*.sources; do
        [[ -r $f ]] || continue
        uri=$(awk -v s="$BASE_SUITE" 'BEGIN { RS = ""; FS = "\n" }
            {
                types = ""; uris = ""; suites = ""; enabled = "yes"
                for (i = 1; i <= NF; i++) {
                    if ($i ~ /^[ \t]*#/) continue
                    k = tolower($i); sub(/:.*/, "", k)
                    v = $i; sub(/^[^:]*:[ \t]*/, "", v)
                    if (k == "types") types = v
                    else if (k == "uris") uris = v
                    else if (k == "suites") suites = v
                    else if (k == "enabled") enabled = tolower(v)
                }
                if (enabled != "no" && (" " types " ") ~ / deb / && (" " suites " ") ~ (" " s " ")) {
                    split(uris, u, /[ \t]+/); print u[1]; exit
                }
            }' "$f")
        if [[ -n $uri ]]; then printf '%s' "${uri%/}"; return 0; fi
    done
    printf 'http://deb.debian.org/debian'
}

# Mounts debootstrap made inside DIR (proc, sys, dev), deepest first: never rm -r through them.
unmount_under() {
    local target
    [[ -d $1 ]] || return 0
    findmnt -rn -o TARGET | awk -v p="$1/" 'index($0, p) == 1' | sort -r | while read -r target; do
        umount -l "$target" 2>/dev/null || true
    done
}

# debootstrap --variant=minbase into a scratch dir, cleaned of caches, packed as BASE_TAR.
make_base_rootfs() {
    local mirror rootfs=$BASE_DIR/rootfs log=$LOGS/images-debootstrap.log start=$SECONDS include=()
    mirror=$(debian_mirror)
    # CA certificates always: builds on this base fetch from https registries (npm), some through a
    # TLS-inspecting egress proxy whose CA the host trusts (copied in below).
    include=(--include=ca-certificates)
    mkdir -p "$BASE_DIR"
    unmount_under "$rootfs"
    rm -rf --one-file-system "$rootfs" "$BASE_TAR.tmp"
    say "images: debootstrap --variant=minbase $BASE_SUITE from $mirror (about a minute; log $(show_path "$log"))"
    if ! debootstrap --variant=minbase "${include[@]}" "$BASE_SUITE" "$rootfs" "$mirror" >"$log" 2>&1 </dev/null; then
        cat "$rootfs/debootstrap/debootstrap.log" >>"$log" 2>/dev/null || true
        unmount_under "$rootfs"
        fail_with_log "images: debootstrap failed" "$log"
    fi
    unmount_under "$rootfs"
    # The host's own extra CAs (/usr/local/share/ca-certificates), so what the host may fetch over
    # https an image build may fetch too.
    if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
        cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/"
        chroot "$rootfs" update-ca-certificates >>"$log" 2>&1 || fail_with_log "images: update-ca-certificates in the base failed" "$log"
    fi
    # As in Debian's official images: no apt lists or package caches in the layer, and none left
    # behind by later apt-get runs in images built on it.
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
        "$rootfs"/var/log/apt/* "$rootfs"/var/log/dpkg.log "$rootfs"/var/log/alternatives.log "$rootfs"/var/log/bootstrap.log
    mkdir -p "$rootfs/var/lib/apt/lists/partial" "$rootfs/var/cache/apt/archives/partial"
    cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
    : >"$rootfs/etc/resolv.conf"   # the host's; containers get their own
    tar --numeric-owner --xattrs -C "$rootfs" --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' \
        -cf "$BASE_TAR.tmp" . 2>>"$log" || fail_with_log "images: packing the base rootfs failed" "$log"
    mv "$BASE_TAR.tmp" "$BASE_TAR"
    rm -rf --one-file-system "$rootfs"
    keep_base_rootfs
    say "images: base rootfs $(show_path "$BASE_TAR") ($(du -m "$BASE_TAR" | cut -f1) MB) in $((SECONDS - start))s"
}

# The debootstrap result is the same for every checkout on this machine (suite, mirror, the host's
# extra CAs), so it is kept once per machine too: another clone (a CI run) starts from that copy
# instead of a minute and a half of debootstrap. REPRISE_MACHINE_CACHE moves it; empty turns it off.
MACHINE_CACHE=${REPRISE_MACHINE_CACHE-${XDG_CACHE_HOME:-$HOME/.cache}/reprise}

base_rootfs_cache() {
    local cas
    cas=$(cat /usr/local/share/ca-certificates/*.crt 2>/dev/null | sha256sum | cut -c1-16)
    printf '%s/base-%s-%s-%s-%s' "$MACHINE_CACHE" "$BASE_SUITE" "$(debian_mirror | sha256sum | cut -c1-12)" "$cas" "$(basename "$BASE_TAR")"
}

reuse_base_rootfs() {
    local cached
    [[ -n $MACHINE_CACHE ]] || return 1
    cached=$(base_rootfs_cache)
    [[ -s $cached ]] || return 1
    mkdir -p "$BASE_DIR"
    cp "$cached" "$BASE_TAR.tmp" && mv "$BASE_TAR.tmp" "$BASE_TAR" || return 1
    say "images: base rootfs from this machine's cache ($(show_path "$cached"))"
}

keep_base_rootfs() {
    local cached
    [[ -n $MACHINE_CACHE ]] || return 0
    cached=$(base_rootfs_cache)
    (umask 077 && mkdir -p "$MACHINE_CACHE" && cp "$BASE_TAR" "$cached.tmp.$$" && mv "$cached.tmp.$$" "$cached") \
        || say "images: could not keep the base rootfs in $(show_path "$MACHINE_CACHE") (not needed)"
}

# Built and pushed once: later runs find the tag in the registry and the rootfs tar on disk.
ensure_base_image() {
    local log=$LOGS/images-base.log start
    if [[ -s $BASE_TAR ]] && base_image_in_registry; then return 0; fi
    [[ -s $BASE_TAR ]] || reuse_base_rootfs || make_base_rootfs
    start=$SECONDS
    cat >"$BASE_DIR/Containerfile" <<'EOF'
# Generated by deploy/local/infra.sh: Debian minbase from debootstrap, see rootfs-v2.tar.
FROM scratch
ADD rootfs-v2.tar /
ENV LANG=C.UTF-8 NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt PIP_CERT=/etc/ssl/certs/ca-certificates.crt
CMD ["bash"]
EOF
    say "images: building $BASE_IMAGE (FROM scratch, ADD rootfs-v2.tar) and pushing it"
    podman_cmd build --format docker -f "$BASE_DIR/Containerfile" -t "$BASE_IMAGE" "$BASE_DIR" \
        >"$log" 2>&1 </dev/null || fail_with_log "images: building $BASE_IMAGE failed" "$log"
    podman_cmd push --tls-verify=false "$BASE_IMAGE" >>"$log" 2>&1 </dev/null \
        || fail_with_log "images: pushing $BASE_IMAGE to $(addr_of registry) failed" "$log"
    base_image_in_registry || die "images: $BASE_IMAGE was pushed but the registry does not list it"
    say "images: $BASE_IMAGE built and pushed in $((SECONDS - start))s"
}

up_images() {
    ensure_image_packages
    up_registry
    up_podman
    ensure_base_image
    state images || die "images: stopped answering right after starting ($STATE_DETAIL)"
    DETAIL="base $BASE_IMAGE"
}

# podman stop -a: containers run under conmon, outside the service, and would outlive it.
stop_podman_containers() {
    [[ -f $CONTAINERS_CONF_FILE && -d $PODMAN_GRAPHROOT ]] && command -v podman >/dev/null || return 0
    timeout 120 env "${CONTAINERS_ENV[@]}" podman stop -a -t 5 >"$LOGS/podman-stop.log" 2>&1 </dev/null \
        || say "images: podman stop -a failed (see $(show_path "$LOGS/podman-stop.log"))"
}

# Stops the podman service (and its containers) and the registry if they are ours; images,
# containers and registry blobs stay for the next `up`. An external registry is left alone.
down_images() {
    local pid stray
    STATE_DETAIL=''
    stop_podman_containers
    if pid=$(owned_pid podman); then
        stop_pid podman "$pid" TERM
        rm -f "$(pidfile podman)"
        stray=$(find_lost_pid podman)
        if alive "$stray"; then stop_pid podman "$stray" TERM; fi
        ! probe_podman || die "images: $(addr_of podman) still answers after stopping pid $pid"
        rm -f "$PODMAN_SOCK"
    fi
    if pid=$(owned_pid registry); then
        stop_pid registry "$pid" TERM
        rm -f "$(pidfile registry)"
        stray=$(find_lost_pid registry)
        if alive "$stray"; then stop_pid registry "$stray" TERM; fi
        ! port_open "$REGISTRY_PORT" || die "images: $(addr_of registry) still answers after stopping pid $pid"
    fi
    if state images; then
        print_state images running "left running"
    else
        print_state images stopped
    fi
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
        if [[ $comp == images ]]; then down_images; continue; fi
        STATE_DETAIL=''
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
        elif [[ $comp == images && -n $OWNER ]]; then
            print_state "$comp" partial   # one of its two daemons is down: the detail says which
            rc=3
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
