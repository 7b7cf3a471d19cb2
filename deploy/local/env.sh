# shellcheck shell=bash
# Addresses of the local infrastructure (deploy/local/infra.sh) for scripts and tests.
# Source it: `. deploy/local/env.sh`. Values already set in the environment win, so a
# caller can move any service (e.g. PG_PORT=5433) and both infra.sh and the tests follow.
# This file is the single place where the defaults live; infra.sh sources it too.

# Store credentials are generated per installation (never fixed defaults a build or a neighbour could
# guess): kept in $REPRISE_HOME/secrets/, mode 600, created on first use. Set the variable to override.
_reprise_home() { printf '%s' "${REPRISE_HOME:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/.reprise}"; }
_reprise_secret() {
    local dir
    dir=$(_reprise_home)/secrets
    if [[ ! -s $dir/$1 ]]; then
        (umask 077 && mkdir -p "$dir" && head -c 32 /dev/urandom | base64 | tr -d '\n/+=' | head -c 40 >"$dir/$1")
    fi
    cat "$dir/$1"
}

# Which store addresses are this file's defaults rather than the caller's choice, decided at the first
# sourcing and exported, so scripts that source this file again keep the answer.
if [[ -z ${REPRISE_DEFAULTED+x} ]]; then
    REPRISE_DEFAULTED=' '
    for _reprise_var in PG_PORT REDIS_PORT REDIS_URL; do
        if [[ -z ${!_reprise_var:-} ]]; then REPRISE_DEFAULTED+="$_reprise_var "; fi
    done
    unset _reprise_var
fi
# infra.sh never keeps Reprise's data in a machine's PostgreSQL or Redis that does not check passwords:
# it runs its own beside it and records the port in stores.env (VAR=port lines). Those replace the
# defaults below, never a value the caller set.
if [[ -r $(_reprise_home)/stores.env ]]; then
    while IFS='=' read -r _reprise_var _reprise_value; do
        if [[ $REPRISE_DEFAULTED == *" $_reprise_var "* && $_reprise_value =~ ^[0-9]+$ ]]; then
            printf -v "$_reprise_var" '%s' "$_reprise_value"
        fi
    done <"$(_reprise_home)/stores.env"
    unset _reprise_var _reprise_value
fi

: "${PG_HOST:=127.0.0.1}"
: "${PG_PORT:=5432}"
: "${PG_USER:=reprise}"
: "${PG_PASSWORD:=$(_reprise_secret pg-password)}"
: "${PG_DATABASE:=reprise}"

: "${REDIS_PORT:=6379}"
# Redis asks for it (requirepass) locally, in docker-compose and in Kubernetes (a Secret).
: "${REDIS_PASSWORD:=$(_reprise_secret redis-password)}"
if [[ $REPRISE_DEFAULTED == *" REDIS_URL "* ]]; then REDIS_URL=redis://:${REDIS_PASSWORD}@127.0.0.1:${REDIS_PORT}; fi

: "${KAFKA_PORT:=9092}"
: "${KAFKA_CONTROLLER_PORT:=9093}"
: "${KAFKA_BOOTSTRAP_SERVERS:=127.0.0.1:${KAFKA_PORT}}"

: "${S3_PORT:=9000}"
: "${S3_ENDPOINT:=http://127.0.0.1:${S3_PORT}}"
# s3proxy ignores the region, but the AWS SDK needs a fixed one (with path-style access)
: "${S3_REGION:=us-east-1}"
: "${S3_ACCESS_KEY:=reprise}"
: "${S3_SECRET_KEY:=$(_reprise_secret s3-secret-key)}"

# Container images (infra.sh's `images`): an OCI registry (plain HTTP) and podman's
# Docker-Engine-compatible API on a unix socket in the state dir. The state dir is REPRISE_HOME,
# default <repo>/.reprise as in lib.sh; infra.sh always serves its own socket there, so a
# DOCKER_HOST set beforehand (another engine) is what the tests then use instead.
: "${REGISTRY_PORT:=5000}"
: "${REGISTRY_HOST:=127.0.0.1:${REGISTRY_PORT}}"    # host:port, the prefix of image names
: "${REGISTRY_URL:=http://${REGISTRY_HOST}}"        # base of the registry's HTTP API (/v2/...)
: "${DOCKER_HOST:=unix://${REPRISE_HOME:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/.reprise}/run/podman.sock}"
# Debian bookworm (minbase), built by infra.sh from the apt mirror this machine uses
: "${REPRISE_BASE_IMAGE:=${REGISTRY_HOST}/reprise/base:bookworm}"

export REPRISE_DEFAULTED PG_HOST PG_PORT PG_USER PG_PASSWORD PG_DATABASE \
       REDIS_PORT REDIS_URL REDIS_PASSWORD \
       KAFKA_PORT KAFKA_CONTROLLER_PORT KAFKA_BOOTSTRAP_SERVERS \
       S3_PORT S3_ENDPOINT S3_REGION S3_ACCESS_KEY S3_SECRET_KEY \
       REGISTRY_PORT REGISTRY_HOST REGISTRY_URL DOCKER_HOST REPRISE_BASE_IMAGE
