#!/usr/bin/env bash
# API load on an embedded hub holding `hub gen` data: single verifications at a
# fixed arrival rate (open loop), batches, screening pages, and the raw in-process
# ES256 sign rate (the ceiling a signature puts on verification). Medians over --runs.
#
#   deploy/bench/api.sh [--runs 3] [--rate 5000] [--duration 60s] [--batch-rate 20]
#                       [--batch-size 1000] [--batch-concurrency 4] [--enterprises 10000]
#                       [--persons 20000]
#
# Batches are offered at the issue's 20,000 subjects/s with at most 4 in flight: the
# hub computes one batch at a time, so what comes back is its batch capacity (the
# rest is counted as not sent), not a pile of timed-out requests.
#
# Screening run i uses jrr-2021 with year 2020+i (runs > 5 repeat years, and the
# hub's screening cache then serves them).
source "$(dirname "$0")/lib.sh"

RUNS=3 RATE=5000 DURATION=60s BRATE=20 BSIZE=1000 BCONC=4 ENT=10000 PER=20000
while [ $# -gt 0 ]; do
	case $1 in
	--runs) RUNS=$2; shift 2 ;;
	--rate) RATE=$2; shift 2 ;;
	--duration) DURATION=$2; shift 2 ;;
	--batch-rate) BRATE=$2; shift 2 ;;
	--batch-size) BSIZE=$2; shift 2 ;;
	--batch-concurrency) BCONC=$2; shift 2 ;;
	--enterprises) ENT=$2; shift 2 ;;
	--persons) PER=$2; shift 2 ;;
	*) echo "usage: $0 [--runs N] [--rate R] [--duration D] [--batch-rate R] [--batch-size N] [--batch-concurrency N] [--enterprises N] [--persons N]" >&2; exit 2 ;;
	esac
done
trap cleanup EXIT

build
keys
GEN="$BENCH_DIR/gen-$ENT-$PER"
gen "$GEN" "$ENT" "$PER"
data="$BENCH_DIR/api"
rm -rf "$data"
start_hub "$data"
log "loading $GEN into the hub"
load_all "$GEN" >/dev/null
wait_lag0
log "loaded: $(pipeline | jq -c .profiles)"

bench() { "$BIN/hubbench" "$@" --url "$HUB_URL" --key "$BENCH_DIR/portal.jwk" --quiet; }
OUT="$BENCH_DIR/api.jsonl"
: >"$OUT"
for run in $(seq 1 "$RUNS"); do
	log "run $run: verify $RATE/s for $DURATION"
	bench verify --targets "$GEN/expected.ndjson" --rate "$RATE" --duration "$DURATION" --seed "$run" |
		jq -c --argjson run "$run" '. + {run:$run}' | tee -a "$OUT"
	log "run $run: batch of $BSIZE at $BRATE/s for $DURATION"
	bench batch --targets "$GEN/expected.ndjson" --rate "$BRATE" --size "$BSIZE" --concurrency "$BCONC" --duration "$DURATION" --seed "$run" |
		jq -c --argjson run "$run" '. + {run:$run}' | tee -a "$OUT"
	year=$((2020 + (run - 1) % 5 + 1))
	log "run $run: screening jrr-2021 year $year"
	bench screen --program jrr-2021 --year "$year" --limit 1000 |
		jq -c --argjson run "$run" '. + {run:$run}' | tee -a "$OUT"
	log "run $run: in-process sign for 10s"
	"$BIN/hubbench" sign --duration 10s --concurrency 0 --quiet |
		jq -c --argjson run "$run" '. + {run:$run}' | tee -a "$OUT"
done
rss=$(peak_rss_kb)
stop_hub

m() { jq -c "select(.mode == \"$1\")" "$OUT" | jq -r "$2" | median; }
verify_rate=$(m verify .achieved_rate)
sign_rate=$(m sign .achieved_rate)
jq -nc --argjson runs "$RUNS" --arg rate "$RATE" --arg duration "$DURATION" \
	--argjson v_rate "$verify_rate" --argjson v_p50 "$(m verify .latency.p50_ms)" --argjson v_p90 "$(m verify .latency.p90_ms)" \
	--argjson v_p99 "$(m verify .latency.p99_ms)" --argjson v_p999 "$(m verify .latency.p99_9_ms)" --argjson v_max "$(m verify .latency.max_ms)" \
	--argjson v_err "$(m verify '[.errors[]] | add // 0')" \
	--argjson b_rate "$(m batch .achieved_rate)" --argjson b_items "$(m batch '.items_rate // 0')" \
	--argjson b_p50 "$(m batch .latency.p50_ms)" --argjson b_p99 "$(m batch .latency.p99_ms)" --argjson b_err "$(m batch '[.errors[]] | add // 0')" \
	--argjson s_total "$(m screen .duration_s)" --argjson s_first "$(m screen .extra.first_page_ms)" --argjson s_cands "$(m screen .extra.candidates)" \
	--argjson sign_rate "$sign_rate" --argjson rss_kb "$rss" \
	'{bench:"api", runs:$runs, target_rate:($rate|tonumber), duration:$duration, median:{
	   verify:{achieved_rate:$v_rate, p50_ms:$v_p50, p90_ms:$v_p90, p99_ms:$v_p99, p99_9_ms:$v_p999, max_ms:$v_max, errors:$v_err},
	   batch:{batches_per_s:$b_rate, items_per_s:$b_items, p50_ms:$b_p50, p99_ms:$b_p99, errors:$b_err},
	   screen:{total_s:$s_total, first_page_ms:$s_first, candidates:$s_cands},
	   sign:{signs_per_s:$sign_rate},
	   verify_to_sign_ratio:(if $sign_rate > 0 then $v_rate / $sign_rate else null end)},
	 hub_peak_rss_mb:($rss_kb/1024)}'
