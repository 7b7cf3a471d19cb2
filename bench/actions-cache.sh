#!/usr/bin/env bash
# bench/run actionscache: save and restore of a node_modules-like tree (BENCH_TREE_MB, 200 MB of
# small files) through GitHub's own @actions/cache (v1, as a self-hosted runner uses it) and through
# `reprise cache save|restore`, against the running artifact service. Median of BENCH_RUNS (3) runs
# of each; results in bench/results/actions-cache.json.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPRISE_HOME=${REPRISE_HOME:-$ROOT/.reprise}
ARTIFACT=http://127.0.0.1:${ARTIFACT_PORT:-8083}
TOKEN=$(<"$REPRISE_HOME/token")
RUNS=${BENCH_RUNS:-3}
MB=${BENCH_TREE_MB:-200}
TOOLKIT=@actions/cache@6.3.0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$ROOT/reprise" status >/dev/null 2>&1 || { echo "bench: Reprise is not running; start it with ./reprise up" >&2; exit 1; }
[[ -f $ROOT/cli/target/reprise-cli.jar ]] || { echo "bench: build the CLI first (mvn -pl cli -am install -DskipTests)" >&2; exit 1; }

echo "bench: installing $TOOLKIT"
mkdir -p "$work/toolkit"
printf '{"name":"bench","private":true,"type":"module"}' >"$work/toolkit/package.json"
(cd "$work/toolkit" && npm install --no-audit --no-fund --loglevel=error "$TOOLKIT" >/dev/null)
cp "$ROOT/e2e/src/test/resources/actions-cache/cache.mjs" "$work/toolkit/"

echo "bench: making a ${MB} MB node_modules-like tree"
python3 - "$work/src/node_modules" "$MB" <<'PY'
import os, random, sys
root, mb = sys.argv[1], int(sys.argv[2])
rnd = random.Random(42)
words = [''.join(rnd.choice('abcdefghijklmnopqrstuvwxyz') for _ in range(rnd.randint(3, 10))) for _ in range(5000)]
total, target, pkg = 0, mb << 20, 0
while total < target:
    d = os.path.join(root, f"pkg-{pkg}", "lib")
    os.makedirs(d, exist_ok=True)
    for f in range(rnd.randint(5, 15)):
        size = int(rnd.lognormvariate(8, 1.3))  # median ~3 KB, a long tail
        text = []
        n = 0
        while n < size:
            w = rnd.choice(words)
            text.append(w)
            n += len(w) + 1
        body = (' '.join(text) + '\n').encode()
        with open(os.path.join(d, f"f{f}.js"), 'wb') as out:
            out.write(body)
        total += len(body)
    pkg += 1
print(f"{pkg} packages")
PY
files=$(find "$work/src/node_modules" -type f | wc -l)

# ms ARRAY COMMAND...: runs the command, appends its wall time in ms to ARRAY; a failure ends the bench.
ms() {
    local -n into=$1
    shift
    local s e
    s=$(date +%s%N)
    "$@" >"$work/last.log" 2>&1 || { echo "bench: failed: $*" >&2; cat "$work/last.log" >&2; exit 1; }
    e=$(date +%s%N)
    into+=($(((e - s) / 1000000)))
}
joined() { local IFS=,; echo "$*"; }
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

toolkit() {  # workspace mode key...
    local ws=$1
    shift
    (cd "$work/toolkit" && env GITHUB_WORKSPACE="$ws" RUNNER_TEMP="$work/rt" ACTIONS_CACHE_URL="$ARTIFACT/" ACTIONS_RUNTIME_TOKEN="$TOKEN" \
        GITHUB_SERVER_URL=https://ghes.example.com ACTIONS_RESULTS_URL= ACTIONS_CACHE_SERVICE_V2= node cache.mjs "$@")
}
cli() {  # workspace args...
    local ws=$1
    shift
    (cd "$ws" && env GITHUB_WORKSPACE="$ws" REPRISE_REMOTE_URL="$ARTIFACT" REPRISE_TOKEN="$TOKEN" GITHUB_OUTPUT= GITHUB_REF_NAME= \
        java -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -jar "$ROOT/cli/target/reprise-cli.jar" "$@")
}
check() { diff -r "$work/src/node_modules" "$1/node_modules" >/dev/null || { echo "bench: restored tree differs in $1" >&2; exit 1; }; }

mkdir -p "$work/rt"
ts=() tr=() cs=() cr=()
for run in $(seq 1 "$RUNS"); do
    key=bench-$(date +%s%N)
    ms ts toolkit "$work/src" save "$key-toolkit" node_modules
    mkdir -p "$work/t$run"
    ms tr toolkit "$work/t$run" restore "$key-toolkit" "" node_modules
    check "$work/t$run"
    ms cs cli "$work/src" cache save --key "$key-cli" --path node_modules
    mkdir -p "$work/c$run"
    ms cr cli "$work/c$run" cache restore --key "$key-cli" --path node_modules
    check "$work/c$run"
    rm -rf "$work/t$run" "$work/c$run"
    echo "bench: run $run: toolkit save ${ts[-1]} ms, restore ${tr[-1]} ms; reprise cache save ${cs[-1]} ms, restore ${cr[-1]} ms"
done
compression=$(command -v zstd >/dev/null && echo zstd || echo gzip)
cat >"$ROOT/bench/results/actions-cache.json" <<JSON
{"tree_mb":$MB,"files":$files,"runs":$RUNS,"compression":"$compression","toolkit":"$TOOLKIT (v1)",
 "toolkit_save_ms":$(median "${ts[@]}"),"toolkit_restore_ms":$(median "${tr[@]}"),
 "cli_save_ms":$(median "${cs[@]}"),"cli_restore_ms":$(median "${cr[@]}"),
 "all_ms":{"toolkit_save":[$(joined "${ts[@]}")],"toolkit_restore":[$(joined "${tr[@]}")],"cli_save":[$(joined "${cs[@]}")],"cli_restore":[$(joined "${cr[@]}")]}}
JSON
cat "$ROOT/bench/results/actions-cache.json"
