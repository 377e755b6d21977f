#!/usr/bin/env bash
# Screening at scale: an embedded hub holding `hub gen` data for --enterprises
# enterprises (default 100,000), then the candidates endpoint paged to the end for
# one program, --runs times (run i asks for year 2021+i-1, so the hub's screening
# cache never answers). Reports the median wall time of the whole screening (first
# page included: it waits for the evaluation of every enterprise) and its rate.
#
#   deploy/bench/screen.sh [--runs 3] [--enterprises 100000] [--persons 1000] [--program jrr-2021]
source "$(dirname "$0")/lib.sh"

RUNS=3 ENT=100000 PER=1000 PROGRAM=jrr-2021
while [ $# -gt 0 ]; do
	case $1 in
	--runs) RUNS=$2; shift 2 ;;
	--enterprises) ENT=$2; shift 2 ;;
	--persons) PER=$2; shift 2 ;;
	--program) PROGRAM=$2; shift 2 ;;
	*) echo "usage: $0 [--runs N] [--enterprises N] [--persons N] [--program ID]" >&2; exit 2 ;;
	esac
done
trap cleanup EXIT

build
keys
GEN="$BENCH_DIR/gen-$ENT-$PER"
gen "$GEN" "$ENT" "$PER"
data="$BENCH_DIR/screen"
rm -rf "$data"
start_hub "$data"
log "loading $GEN into the hub"
t0=$(now_s)
records=$(load_all "$GEN")
wait_lag0
log "loaded $records records in $(minus "$(now_s)" "$t0")s: $(pipeline | jq -c .profiles)"

OUT="$BENCH_DIR/screen.jsonl"
: >"$OUT"
for run in $(seq 1 "$RUNS"); do
	year=$((2021 + (run - 1) % 5))
	log "run $run: screening $PROGRAM year $year"
	"$BIN/hubbench" screen --url "$HUB_URL" --key "$BENCH_DIR/portal.jwk" --quiet --program "$PROGRAM" --year "$year" --limit 1000 |
		jq -c --argjson run "$run" --argjson year "$year" '. + {run:$run, year:$year}' | tee -a "$OUT"
done
rss=$(peak_rss_kb)
stop_hub
jq -nc --argjson runs "$RUNS" --argjson ent "$ENT" --arg program "$PROGRAM" \
	--argjson total "$(field "$OUT" .duration_s)" --argjson first "$(field "$OUT" .extra.first_page_ms)" \
	--argjson cands "$(field "$OUT" .extra.candidates)" --argjson rss_kb "$rss" \
	'{bench:"screen", runs:$runs, enterprises:$ent, program:$program,
	  median:{total_s:$total, first_page_ms:$first, candidates:$cands, enterprises_per_s:($ent / $total)},
	  hub_peak_rss_mb:($rss_kb/1024)}'
