#!/usr/bin/env bash
# bench/run images: the image cache's three figures against the running image-cache-service.
#   cold build  - POST /api/v1/images (wait) of a set not built before in this registry; the build
#                 log says whether the engine's layer cache served any RUN step (reported, not hidden)
#   resolve     - POST /api/v1/images/resolve of a built set, N times: p50/p99 (a hit: index lookup,
#                 base digest from the registry, registry check of the image)
#   start       - docker run --rm IMAGE true through the same Docker Engine API (podman's here), N times
# Writes bench/results/images.json.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$ROOT/deploy/local/env.sh"
API=${IMAGE_CACHE_URL:-http://127.0.0.1:${IMAGE_CACHE_PORT:-8084}}
N=${BENCH_N:-200}
STARTS=${BENCH_STARTS:-10}
OUT=$ROOT/bench/results/images.json
command -v docker >/dev/null || { echo "bench: needs the docker CLI (apt-get install -y docker.io, client only)" >&2; exit 1; }
curl -fsS "http://127.0.0.1:$((${IMAGE_CACHE_PORT:-8084} + 1000))/q/health/ready" >/dev/null || { echo "bench: image-cache-service is not answering at $API; ./reprise up" >&2; exit 1; }

ms() { echo $(( $(date +%s%N) / 1000000 )); }
percentile() { sort -n | awk -v p="$1" '{a[NR]=$1} END {i=int((NR*p+99)/100); if (i<1) i=1; print a[i]}'; }

# A set this registry has not seen: small Debian packages, picked by the run's nonce.
packages=(hello figlet sl cowsay fortune-mod toilet bsdgames cmatrix)
i=$(( $(date +%s) % ${#packages[@]} )); j=$(( (i + 3) % ${#packages[@]} ))
set_json="{\"dependencies\":[{\"type\":\"apt\",\"name\":\"${packages[$i]}\"},{\"type\":\"apt\",\"name\":\"${packages[$j]}\"}]}"
existing=$(curl -fsS -XPOST "$API/api/v1/images/resolve" -H 'content-type: application/json' -d "$set_json" \
    | sed -n 's/.*"image":{"id":"\([^"]*\)".*/\1/p')
if [[ -n $existing ]]; then
    while curl -fsS "$API/api/v1/images/$existing" | grep -q '"status":"\(BUILDING\|PENDING\)"'; do sleep 1; done
    curl -fsS -XDELETE "$API/api/v1/images/$existing" >/dev/null
fi
echo "bench: cold build of apt ${packages[$i]} + ${packages[$j]}"
start=$(ms)
answer=$(curl -sS -XPOST "$API/api/v1/images" -H 'content-type: application/json' -d "$set_json")
cold_ms=$(( $(ms) - start ))
grep -q '"result":"built"' <<<"$answer" || { echo "bench: the build did not succeed: ${answer:0:400}" >&2; exit 1; }
# Did the engine's layer cache serve a RUN step (a package install)? Then this was not fully cold.
layer_cache=$(python3 -c '
import json, sys
log = json.load(sys.stdin)["image"].get("buildLog", "").splitlines()
print("true" if any(l.startswith("STEP") and " RUN " in l and i + 1 < len(log) and "Using cache" in log[i + 1]
                    for i, l in enumerate(log)) else "false")' <<<"$answer")
image=$(sed -n 's/.*"pinnedReference":"\([^"]*\)".*/\1/p' <<<"$answer" | head -n 1)
size=$(sed -n 's/.*"sizeBytes":\([0-9]*\).*/\1/p' <<<"$answer" | head -n 1)
echo "bench: built in ${cold_ms} ms (layer cache used: $layer_cache), $image, $size bytes"

echo "bench: $N cached resolves"
for _ in 1 2 3 4 5 6 7 8 9 10; do curl -fsS -o /dev/null -XPOST "$API/api/v1/images/resolve" -H 'content-type: application/json' -d "$set_json"; done
resolve_times=$(for _ in $(seq "$N"); do
    curl -fsS -o /dev/null -w '%{time_total}\n' -XPOST "$API/api/v1/images/resolve" -H 'content-type: application/json' -d "$set_json"
done | awk '{printf "%.2f\n", $1 * 1000}')
r50=$(percentile 50 <<<"$resolve_times"); r99=$(percentile 99 <<<"$resolve_times")
echo "bench: resolve p50 ${r50} ms, p99 ${r99} ms"

echo "bench: $STARTS container starts of $image"
DOCKER_HOST=$DOCKER_HOST docker pull -q "$image" >/dev/null 2>&1 || true
start_times=$(for _ in $(seq "$STARTS"); do
    s=$(ms); DOCKER_HOST=$DOCKER_HOST docker run --rm "$image" true >/dev/null; echo $(( $(ms) - s ))
done)
s50=$(percentile 50 <<<"$start_times"); s99=$(percentile 99 <<<"$start_times")
echo "bench: container start-to-exit p50 ${s50} ms, max ${s99} ms"

cat >"$OUT" <<JSON
{
  "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "machine": "$(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -r)",
  "engine": "$(DOCKER_HOST=$DOCKER_HOST docker version --format '{{.Server.Version}}' 2>/dev/null || echo unknown) (Docker Engine API at $DOCKER_HOST)",
  "coldBuild": {"set": "apt ${packages[$i]} + ${packages[$j]}", "ms": $cold_ms, "layerCacheUsed": $layer_cache, "sizeBytes": ${size:-0}},
  "cachedResolve": {"n": $N, "p50Ms": $r50, "p99Ms": $r99},
  "containerStart": {"n": $STARTS, "what": "docker run --rm IMAGE true (create, start, wait, remove)", "p50Ms": $s50, "maxMs": $s99}
}
JSON
cat "$OUT"
