#!/usr/bin/env bash
# Wall time of the task-output cache CLI as a user sees it (JVM start included): a hit and a miss of a
# 3-file javac task through cli/reprise-cache, with its class-data-sharing archive and without
# (REPRISE_CDS=off). ROUNDS (default 20) of each. Writes bench/results/taskcache-cli.json.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
rounds=${ROUNDS:-20}
[[ -f $ROOT/cli/target/reprise-cli.jar ]] || (cd "$ROOT" && mvn -B -o -q -pl cli -am install -DskipTests)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export XDG_CACHE_HOME=$work/xdg REPRISE_CACHE_DIR=$work/cache
cd "$work"
mkdir src
for i in 1 2 3; do echo "public class A$i { public static int f() { return $i; } }" >"src/A$i.java"; done
task() { "$ROOT/cli/reprise-cache" run --no-remote --inputs 'src/**' --outputs 'out/**' -- javac -d out src/A1.java src/A2.java src/A3.java; }
ms() { local t0 t1; t0=$(date +%s%N); "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }; t1=$(date +%s%N); echo $(( (t1 - t0) / 1000000 )); }
# The first run makes the archive in the background; wait for it (it is made once per jar and Java).
rm -rf out; task >/dev/null 2>&1
for _ in $(seq 1 100); do ls "$XDG_CACHE_HOME"/reprise/cds/*.jsa >/dev/null 2>&1 && break; sleep 0.2; done
ls "$XDG_CACHE_HOME"/reprise/cds/*.jsa >/dev/null 2>&1 || { echo "bench: no archive was made" >&2; exit 1; }
declare -A samples
n=0
for cds in on off; do
    export REPRISE_CDS=$cds
    for _ in $(seq 1 "$rounds"); do
        n=$((n + 1))
        echo "// $n" >>src/A1.java            # new input: a miss (javac runs, its outputs are stored)
        rm -rf out
        samples[miss_$cds]+="$(ms task) "
        grep -q "hit" "$work/err" && { echo "bench: expected a miss" >&2; exit 1; }
        rm -rf out                               # same input again: a hit (outputs restored, log replayed)
        samples[hit_$cds]+="$(ms task) "
        grep -q "local hit" "$work/err" || { echo "bench: expected a hit, got: $(cat "$work/err")" >&2; exit 1; }
        [[ -f out/A1.class ]] || { echo "bench: the hit did not restore out/A1.class" >&2; exit 1; }
    done
done
python3 - "$ROOT/bench/results/taskcache-cli.json" "${samples[hit_on]}" "${samples[miss_on]}" "${samples[hit_off]}" "${samples[miss_off]}" <<'PY'
import json, sys
def dist(text):
    v = sorted(int(x) for x in text.split())
    pick = lambda q: v[min(len(v) - 1, int(q * len(v)))]
    return {"min": v[0], "p50": pick(0.5), "p90": pick(0.9), "max": v[-1], "n": len(v)}
names = ["hit_wall_ms", "miss_wall_ms", "hit_wall_ms_without_archive", "miss_wall_ms_without_archive"]
result = {"task": "javac of 3 classes through cli/reprise-cache, local cache", **{n: dist(t) for n, t in zip(names, sys.argv[2:])}}
json.dump(result, open(sys.argv[1], "w"), indent=1)
print(json.dumps(result, indent=1))
PY
