#!/usr/bin/env bash
# kafka.sh start|stop|status|logs — a single-node Apache Kafka (KRaft, broker and
# controller in one process) on this machine for the integration tests.
#
# Needs only Java 17+ and Maven: the Kafka jars come from Maven Central (no tarball
# download), into a cache outside the repository:
#
#   ${STATE:-$HOME/.cache/verihub-dev}/kafka/
#     lib-<version>/   jars (mvn dependency:copy-dependencies)
#     m2/              Maven's local repository for those downloads
#     data/            the KRaft log directory (formatted once)
#     logs/            server.log, stdout.log
#     server.properties, log4j2.properties, kafka.pid
#
# Listens on 127.0.0.1:19092 (controller 127.0.0.1:19093); topics are never
# auto-created. Every command is idempotent. Environment: KAFKA_VERSION (default
# 4.1.1), KAFKA_PORT, KAFKA_CONTROLLER_PORT, KAFKA_HEAP (default 512m), JAVA, MVN.
#
# Then: VERIHUB_TEST_KAFKA_BROKERS=127.0.0.1:19092 go test ./hub/bus/...
set -euo pipefail

KAFKA_VERSION=${KAFKA_VERSION:-4.1.1}
LOG4J_VERSION=${LOG4J_VERSION:-2.24.3}
SLF4J_VERSION=${SLF4J_VERSION:-2.0.17}
STATE=${STATE:-$HOME/.cache/verihub-dev}
PORT=${KAFKA_PORT:-19092}
CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-19093}
HEAP=${KAFKA_HEAP:-512m}
JAVA=${JAVA:-java}
MVN=${MVN:-mvn}

DIR=$STATE/kafka
LIB=$DIR/lib-$KAFKA_VERSION
DATA=$DIR/data
LOGS=$DIR/logs
PIDFILE=$DIR/kafka.pid
CONF=$DIR/server.properties
LOG4J=$DIR/log4j2.properties

say() { printf 'kafka.sh: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

where_logs() {
	say "logs: $LOGS/server.log and $LOGS/stdout.log (fetch: $DIR/fetch.log, format: $DIR/format.log)"
}

# running prints the pid of our Kafka when it runs.
running() {
	[[ -f $PIDFILE ]] || return 1
	local pid
	pid=$(<"$PIDFILE")
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	# The pid must still be our broker, not a recycled pid.
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "kafka.Kafka $CONF" || return 1
	echo "$pid"
}

fetch() {
	[[ -f $LIB/.complete ]] && return 0
	command -v "$MVN" >/dev/null || die "maven ($MVN) is not installed"
	command -v "$JAVA" >/dev/null || die "java ($JAVA) is not installed"
	say "fetching Apache Kafka $KAFKA_VERSION jars from Maven Central into $LIB"
	local build=$DIR/build-$KAFKA_VERSION
	mkdir -p "$build"
	cat >"$build/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.verihub</groupId>
  <artifactId>kafka-dev-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-server</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools-api</artifactId><version>$KAFKA_VERSION</version></dependency>
    <!-- Pinned: some Kafka modules pull slf4j 1.7, which log4j-slf4j2-impl cannot bind. -->
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId><version>$SLF4J_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>$LOG4J_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j2-impl</artifactId><version>$LOG4J_VERSION</version></dependency>
  </dependencies>
</project>
EOF
	rm -rf "$LIB.tmp"
	if ! "$MVN" -B -q -f "$build/pom.xml" -Dmaven.repo.local="$DIR/m2" \
		org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
		-DincludeScope=runtime -DoutputDirectory="$LIB.tmp" >"$DIR/fetch.log" 2>&1; then
		tail -n 30 "$DIR/fetch.log" >&2 || true
		die "maven could not fetch the Kafka jars; full output in $DIR/fetch.log"
	fi
	ls "$LIB.tmp"/kafka_2.13-"$KAFKA_VERSION".jar "$LIB.tmp"/slf4j-api-"$SLF4J_VERSION".jar >/dev/null ||
		die "jars missing after fetch; see $DIR/fetch.log"
	rm -rf "$LIB"
	mv "$LIB.tmp" "$LIB"
	touch "$LIB/.complete"
}

configure() {
	mkdir -p "$DATA" "$LOGS"
	cat >"$CONF" <<EOF
process.roles=broker,controller
node.id=1
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
controller.quorum.bootstrap.servers=127.0.0.1:$CONTROLLER_PORT
log.dirs=$DATA
num.partitions=6
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.cleaner.backoff.ms=1000
EOF
	cat >"$LOG4J" <<EOF
status = warn
appender.file.type = RollingFile
appender.file.name = file
appender.file.fileName = $LOGS/server.log
appender.file.filePattern = $LOGS/server.log.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 50MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 3
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.org_apache_kafka.name = org.apache.kafka
logger.org_apache_kafka.level = INFO
EOF
}

java_run() {
	"$JAVA" -Xms128m -Xmx"$HEAP" -XX:+UseG1GC -Djava.awt.headless=true \
		-Dlog4j2.configurationFile="$LOG4J" -Dkafka.logs.dir="$LOGS" \
		-cp "$LIB/*" "$@"
}

format() {
	[[ -f $DATA/meta.properties ]] && return 0
	say "formatting KRaft storage in $DATA"
	local id
	id=$(java_run kafka.tools.StorageTool random-uuid 2>>"$DIR/format.log" | tail -n 1)
	[[ -n $id ]] || { where_logs; die "could not generate a cluster id"; }
	if ! java_run kafka.tools.StorageTool format --standalone -t "$id" -c "$CONF" >>"$DIR/format.log" 2>&1; then
		tail -n 20 "$DIR/format.log" >&2 || true
		where_logs
		die "formatting storage failed"
	fi
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }

start() {
	local pid
	if pid=$(running); then
		say "already running (pid $pid) on 127.0.0.1:$PORT"
		return 0
	fi
	if port_open; then
		die "127.0.0.1:$PORT is already in use by another process"
	fi
	fetch
	configure
	format
	say "starting Kafka $KAFKA_VERSION on 127.0.0.1:$PORT (controller $CONTROLLER_PORT)"
	# Start fresh logs so the readiness check only sees this run.
	[[ -f $LOGS/server.log ]] && mv -f "$LOGS/server.log" "$LOGS/server.log.prev"
	: >"$LOGS/stdout.log"
	nohup "$JAVA" -Xms128m -Xmx"$HEAP" -XX:+UseG1GC -Djava.awt.headless=true \
		-Dlog4j2.configurationFile="$LOG4J" -Dkafka.logs.dir="$LOGS" \
		-cp "$LIB/*" kafka.Kafka "$CONF" >>"$LOGS/stdout.log" 2>&1 </dev/null &
	pid=$!
	echo "$pid" >"$PIDFILE"
	local deadline=$((SECONDS + 120))
	until port_open && grep -q "Kafka Server started" "$LOGS/server.log" 2>/dev/null; do
		if ! kill -0 "$pid" 2>/dev/null; then
			rm -f "$PIDFILE"
			tail -n 30 "$LOGS/stdout.log" "$LOGS/server.log" >&2 2>/dev/null || true
			where_logs
			die "Kafka exited during startup"
		fi
		if ((SECONDS > deadline)); then
			tail -n 30 "$LOGS/server.log" >&2 2>/dev/null || true
			where_logs
			die "Kafka did not answer on 127.0.0.1:$PORT within 120s (still running as pid $pid; '$0 stop' ends it)"
		fi
		sleep 0.5
	done
	say "ready: VERIHUB_TEST_KAFKA_BROKERS=127.0.0.1:$PORT (pid $pid)"
}

stop() {
	local pid
	if ! pid=$(running); then
		rm -f "$PIDFILE"
		say "not running"
		return 0
	fi
	say "stopping pid $pid"
	kill -TERM "$pid"
	local deadline=$((SECONDS + 60))
	while kill -0 "$pid" 2>/dev/null; do
		if ((SECONDS > deadline)); then
			say "pid $pid did not stop within 60s; killing it"
			kill -KILL "$pid" 2>/dev/null || true
			break
		fi
		sleep 0.5
	done
	rm -f "$PIDFILE"
	say "stopped"
}

status() {
	local pid
	if pid=$(running); then
		echo "running (pid $pid) on 127.0.0.1:$PORT, data $DATA"
		return 0
	fi
	echo "stopped"
	return 3
}

case ${1:-} in
start) start ;;
stop) stop ;;
status) status ;;
logs) where_logs ;;
*)
	echo "usage: $0 start|stop|status|logs" >&2
	exit 2
	;;
esac
