#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs as root: a SIGINT during `punchlab run` and --resume completing it with
# no trial twice; --shard 1/2 + --shard 2/2 + merge equal to the whole; bad
# results files refused with FILE:LINE:COL.
set -eu
PL=$1 SRC=$2
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root"; exit 0; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "1..4"
suite=$SRC/experiments/smoke.json

mkdir "$out/int"
"$PL" run "$suite" --trials 6 -o "$out/int" --quiet 2>/dev/null &
pid=$!
sleep 2.5
kill -INT $pid
rc=0
wait $pid || rc=$?
[ "$rc" = 130 ]
first=$(ls "$out"/int/smoke-*.json)
"$PL" run "$suite" --trials 6 -o "$out/int" --resume "$first" --quiet 2>/dev/null
second=$(ls -t "$out"/int/smoke-*.json | head -1)
python3 - "$first" "$second" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert a["metadata"]["interrupted"] and 0 < len(a["trials"]) < 18, len(a["trials"])
assert not b["metadata"]["interrupted"]
keys = [(t["cell"], t["trial"]) for t in b["trials"]]
assert len(keys) == 18 and len(set(keys)) == 18, (len(keys), len(set(keys)))
old = {(t["cell"], t["trial"]): t for t in a["trials"]}
assert all(b_t == old[k] for k, b_t in zip(keys, b["trials"]) if k in old), "the first run's trials changed"
PY
echo "ok 1 - SIGINT writes the results so far; --resume completes them, no trial twice"

mkdir "$out/shard"
"$PL" run "$suite" --shard 1/2 -o "$out/shard" --quiet 2>/dev/null
"$PL" run "$suite" --shard 2/2 -o "$out/shard" --quiet 2>/dev/null
"$PL" merge -o "$out/merged" "$out"/shard/smoke-*.json > /dev/null 2>&1
"$PL" run "$suite" -o "$out/whole" --quiet 2>/dev/null
python3 - "$out"/merged/*.json "$out"/whole/*.json "$SRC/docs/results.schema.json" <<'PY'
import json, sys, jsonschema
m, w, schema = (json.load(open(p)) for p in sys.argv[1:4])
jsonschema.validate(m, schema)
summ = lambda r: sorted((c["id"], c["trials"], c["successes"], sorted(c["failures"].items())) for c in r["cells"])
assert summ(m) == summ(w), (summ(m), summ(w))
assert sorted((t["cell"], t["trial"]) for t in m["trials"]) == sorted((t["cell"], t["trial"]) for t in w["trials"])
PY
echo "ok 2 - shard 1/2 + shard 2/2 + merge equal the whole"

rc=0
"$PL" merge -o "$out/x" "$out"/shard/smoke-*.json "$out"/shard/smoke-*.json > /dev/null 2>"$out/err" || rc=$?
[ "$rc" = 1 ] && grep -q "is in two of the files" "$out/err"
echo "ok 3 - merge refuses a trial present twice"

for f in newer malformed other; do
	rc=0
	"$PL" merge -o "$out/x" "$SRC/tests/data/results/$f.json" > /dev/null 2>"$out/$f.err" || rc=$?
	[ "$rc" = 1 ]
done
grep -q "newer.json:1:43: results format version 2 is newer than this punchlab reads (1)" "$out/newer.err"
grep -q "malformed.json:4:2: expected ',' or '}' in object" "$out/malformed.err"
grep -q "other.json:1:12: not a punchlab results file" "$out/other.err"
echo "ok 4 - newer, malformed and foreign results files are refused with FILE:LINE:COL"
