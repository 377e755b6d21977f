#!/usr/bin/env bash
# Ingest throughput of an embedded hub: `hub load` of every agency file of `hub gen`
# data (about 1M records by default) into a fresh hub, timed until the matcher's lag
# (GET /v1/admin/pipeline) is 0, with the hub's peak RSS (VmHWM). Medians over --runs.
#
#   deploy/bench/ingest.sh [--runs 3] [--enterprises 10000] [--persons 20000]
#
# Prints one line per run and a JSON line of medians.
source "$(dirname "$0")/lib.sh"

RUNS=3 ENT=10000 PER=20000
while [ $# -gt 0 ]; do
	case $1 in
	--runs) RUNS=$2; shift 2 ;;
	--enterprises) ENT=$2; shift 2 ;;
	--persons) PER=$2; shift 2 ;;
	*) echo "usage: $0 [--runs N] [--enterprises N] [--persons N]" >&2; exit 2 ;;
	esac
done
trap cleanup EXIT

build
keys
GEN="$BENCH_DIR/gen-$ENT-$PER"
gen "$GEN" "$ENT" "$PER"
records=$(cat "$GEN"/{si,tax,cert,env,credit,grant}.ndjson | wc -l)
log "ingest: $records records, $RUNS runs"
OUT="$BENCH_DIR/ingest.jsonl"
: >"$OUT"
for run in $(seq 1 "$RUNS"); do
	data="$BENCH_DIR/ingest-$run"
	rm -rf "$data"
	start_hub "$data"
	t0=$(now_s)
	accepted=$(load_all "$GEN")
	t1=$(now_s)
	wait_lag0
	t2=$(now_s)
	rss=$(peak_rss_kb)
	profiles=$(pipeline | jq -c '.profiles')
	stop_hub
	jq -nc --argjson run "$run" --argjson records "$records" --argjson accepted "$accepted" \
		--argjson load_s "$(minus "$t1" "$t0")" --argjson total_s "$(minus "$t2" "$t0")" \
		--argjson rss_kb "$rss" --argjson profiles "$profiles" \
		'{run:$run, records:$records, accepted:$accepted, load_s:$load_s, total_s:$total_s,
		  records_per_s:($records/$total_s), publish_per_s:($records/$load_s), peak_rss_mb:($rss_kb/1024), profiles:$profiles}' | tee -a "$OUT"
	rm -rf "$data"
done
jq -nc --arg runs "$RUNS" \
	--argjson records_per_s "$(field "$OUT" .records_per_s)" \
	--argjson publish_per_s "$(field "$OUT" .publish_per_s)" \
	--argjson total_s "$(field "$OUT" .total_s)" \
	--argjson peak_rss_mb "$(field "$OUT" .peak_rss_mb)" \
	'{bench:"ingest", runs:($runs|tonumber), median:{records_per_s:$records_per_s, publish_per_s:$publish_per_s, total_s:$total_s, peak_rss_mb:$peak_rss_mb}}'
