#!/usr/bin/env bash
# Start, stop or check a private Redis for development and integration tests.
#
#   deploy/dev/redis.sh start|stop|status
#
# The instance listens on 127.0.0.1:${REDIS_PORT:-16379} (not the system service's
# port), keeps its files in ${STATE:-$HOME/.cache/verihub-dev}/redis, and is durable
# on acknowledgement: AOF with appendfsync always, which is what the profile store's
# "durable on return" promise needs from Redis. redis-server is installed from the
# Debian packages when absent. Every command is idempotent.
set -euo pipefail

STATE=${STATE:-$HOME/.cache/verihub-dev}
PORT=${REDIS_PORT:-16379}
DIR="$STATE/redis"
PIDFILE="$DIR/redis.pid"
CONF="$DIR/redis.conf"
LOG="$DIR/redis.log"

log() { echo "redis.sh: $*" >&2; }

install_redis() {
	command -v redis-server >/dev/null && command -v redis-cli >/dev/null && return 0
	log "installing redis-server from Debian packages"
	local sudo=""
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null || { log "not root and no sudo: install redis-server by hand"; exit 1; }
		sudo="sudo"
	fi
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq redis-server >/dev/null
	# The package starts the system service on 6379; ours is separate and that one is
	# left as the system has it.
}

running_pid() {
	[ -f "$PIDFILE" ] || return 1
	local pid
	pid=$(cat "$PIDFILE")
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q redis "/proc/$pid/cmdline" 2>/dev/null || return 1
	echo "$pid"
}

ping() { redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null | grep -q PONG; }

start() {
	if pid=$(running_pid); then
		log "already running (pid $pid) on 127.0.0.1:$PORT"
		return 0
	fi
	install_redis
	mkdir -p "$DIR"
	cat >"$CONF" <<CONF
bind 127.0.0.1
port $PORT
protected-mode yes
daemonize yes
pidfile $PIDFILE
logfile $LOG
dir $DIR
appendonly yes
appendfsync always
appendfilename "appendonly.aof"
save ""
CONF
	redis-server "$CONF"
	for _ in $(seq 1 100); do
		if ping; then
			log "running (pid $(cat "$PIDFILE")) on 127.0.0.1:$PORT, data in $DIR"
			return 0
		fi
		sleep 0.1
	done
	log "did not answer PING within 10s; see $LOG"
	tail -n 20 "$LOG" >&2 || true
	exit 1
}

stop() {
	local pid
	if ! pid=$(running_pid); then
		log "not running"
		rm -f "$PIDFILE"
		return 0
	fi
	kill "$pid"
	for _ in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || { log "stopped"; return 0; }
		sleep 0.1
	done
	log "pid $pid did not stop within 10s"
	exit 1
}

status() {
	if pid=$(running_pid) && ping; then
		log "running (pid $pid) on 127.0.0.1:$PORT"
		return 0
	fi
	log "not running"
	return 1
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status) status ;;
*)
	echo "usage: $0 start|stop|status" >&2
	exit 2
	;;
esac
