# Shared by the bench scripts: build the binaries, start an embedded hub on free
# loopback ports with a bench portal and admin client, load generated data, wait for
# the matcher, take medians. Source it; do not run it.
#
# Environment: BENCH_DIR (work directory, default a new mktemp dir), GO (default go),
# BENCH_DEBUG_ADDR (serve the hub's pprof profiles there, e.g. 127.0.0.1:6060).

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
GO=${GO:-go}
if [ -z "${BENCH_DIR:-}" ]; then
	BENCH_DIR=$(mktemp -d -t verihub-bench.XXXXXX)
	BENCH_DIR_CREATED=1
fi
mkdir -p "$BENCH_DIR"
BIN="$BENCH_DIR/bin"
HUB_PID=""
HUB_URL=""

log() { echo "bench: $*" >&2; }

need() { command -v "$1" >/dev/null || { log "$1 is required"; exit 1; }; }

build() {
	need jq
	mkdir -p "$BIN"
	(cd "$ROOT" && "$GO" build -o "$BIN/hub" ./cmd/hub && "$GO" build -o "$BIN/hubbench" ./cmd/hubbench)
}

# free_port prints a TCP port free on 127.0.0.1 right now.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# gen DIR ENTERPRISES PERSONS writes hub gen data into DIR once (kept between runs).
gen() {
	local dir=$1 ent=$2 per=$3
	if [ -f "$dir/manifest.json" ] && [ "$(jq -r '.enterprises,.persons' "$dir/manifest.json" | paste -sd,)" = "$ent,$per" ]; then
		return 0
	fi
	log "generating $ent enterprises, $per persons into $dir"
	"$BIN/hub" gen --seed 1 --enterprises "$ent" --persons "$per" --out "$dir" >/dev/null
}

# keys writes the bench clients' key pairs into $BENCH_DIR once.
keys() {
	[ -f "$BENCH_DIR/portal.jwk" ] || "$BIN/hubbench" client-key --client-id bench-portal --out "$BENCH_DIR/portal.jwk"
	[ -f "$BENCH_DIR/admin.jwk" ] || "$BIN/hubbench" client-key --client-id bench-admin --out "$BENCH_DIR/admin.jwk"
}

# start_hub DATADIR starts an embedded hub with a fresh configuration on free ports
# and waits until it is ready. It sets HUB_PID, HUB_URL and HUB_CONFIG.
start_hub() {
	local data=$1 port broker
	port=$(free_port)
	broker=$(free_port)
	mkdir -p "$data"
	HUB_CONFIG="$data/hub.yaml"
	cat >"$HUB_CONFIG" <<YAML
data_dir: $data
http:
  addr: 127.0.0.1:$port
  debug_addr: ${BENCH_DEBUG_ADDR:-}
bus:
  embedded:
    addr: 127.0.0.1:$broker
auth:
  rate_limit: {per_second: 1000000, burst: 1000000}
  clients:
    - id: bench-portal
      role: portal
      programs: ["*"]
      key_files: [$BENCH_DIR/portal.jwk.pub]
    - id: bench-admin
      role: admin
      key_files: [$BENCH_DIR/admin.jwk.pub]
log:
  level: warn
YAML
	# BENCH_STORE=redis measures with the Redis store (at BENCH_REDIS_ADDR, default the
	# dev Redis) under a key prefix of its own, removed when the hub stops.
	if [ "${BENCH_STORE:-embedded}" = redis ]; then
		BENCH_REDIS_PREFIX="bench$$-$port"
		cat >>"$HUB_CONFIG" <<YAML
store:
  kind: redis
  redis:
    addrs: [${BENCH_REDIS_ADDR:-127.0.0.1:16379}]
    prefix: $BENCH_REDIS_PREFIX
YAML
	fi
	HUB_URL="http://127.0.0.1:$port"
	"$BIN/hub" serve --config "$HUB_CONFIG" >>"$data/hub.log" 2>&1 &
	HUB_PID=$!
	for _ in $(seq 1 600); do
		if curl -fsS "$HUB_URL/readyz" >/dev/null 2>&1; then
			return 0
		fi
		if ! kill -0 "$HUB_PID" 2>/dev/null; then
			log "the hub exited; its log:"
			tail -20 "$data/hub.log" >&2
			exit 1
		fi
		sleep 0.1
	done
	log "the hub did not become ready in 60s"
	exit 1
}

stop_hub() {
	if [ -n "$HUB_PID" ] && kill -0 "$HUB_PID" 2>/dev/null; then
		kill -TERM "$HUB_PID"
		wait "$HUB_PID" 2>/dev/null || true
	fi
	HUB_PID=""
	if [ -n "${BENCH_REDIS_PREFIX:-}" ] && command -v redis-cli >/dev/null; then
		local hp=${BENCH_REDIS_ADDR:-127.0.0.1:16379}
		redis-cli -h "${hp%:*}" -p "${hp##*:}" --scan --pattern "$BENCH_REDIS_PREFIX:*" |
			xargs -r -n 5000 redis-cli -h "${hp%:*}" -p "${hp##*:}" DEL >/dev/null
		BENCH_REDIS_PREFIX=""
	fi
}

# peak_rss_kb prints the hub's peak resident set (VmHWM) in kB.
peak_rss_kb() {
	awk '/^VmHWM:/ {print $2}' "/proc/$HUB_PID/status"
}

admin_token() {
	"$BIN/hub" token --key "$BENCH_DIR/admin.jwk" --url "$HUB_URL" 2>/dev/null | tail -1
}

# pipeline prints GET /v1/admin/pipeline.
pipeline() {
	curl -fsS -H "Authorization: Bearer $(admin_token)" "$HUB_URL/v1/admin/pipeline"
}

# load_all DATADIR loads every agency file of hub gen output; prints records accepted.
load_all() {
	local dir=$1 total=0 n agency
	for agency in si tax cert env credit grant; do
		n=$("$BIN/hub" load --config "$HUB_CONFIG" --agency "$agency" "$dir/$agency.ndjson" | awk '{print $2}')
		total=$((total + n))
	done
	echo "$total"
}

# wait_lag0 polls the pipeline until the matcher's lag is 0.
wait_lag0() {
	local lag
	while :; do
		lag=$(pipeline | jq -r '.lag')
		[ "$lag" = "0" ] && return 0
		sleep 0.2
	done
}

# median prints the median of the numbers on stdin (the lower middle for an even count).
median() {
	sort -g | awk '{v[NR]=$1} END {if (NR==0) print "nan"; else print v[int((NR+1)/2)]}'
}

# field FILE JQPATH prints the median of JQPATH over the JSON lines in FILE.
field() {
	jq -r "$2" "$1" | median
}

# now_s prints seconds since the epoch with nanoseconds.
now_s() { date +%s.%N; }

# minus A B prints A - B.
minus() { awk -v a="$1" -v b="$2" 'BEGIN {print a - b}'; }

cleanup() {
	stop_hub
	if [ -z "${BENCH_KEEP:-}" ] && [ "${BENCH_DIR_CREATED:-}" = 1 ]; then
		rm -rf "$BENCH_DIR"
	fi
}
