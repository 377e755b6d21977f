#!/usr/bin/env bash
# scaleout.sh — show hub processes sharing the matching work and taking over from one
# that dies.
#
# Starts the development Redis and Kafka (deploy/dev/{redis,kafka}.sh, idempotent),
# then runs hub/e2e's TestScaleOut: three `hub serve` processes on the same Kafka
# and Redis (one consumer group, shared PII/access secrets and signing keys, their
# own HTTP ports), `hub load` of generated data, SIGKILL of one process while the
# matcher is mid-way, and a check that the survivors finish its partitions with
# nothing lost (the store equals an independent fold of the generated files) while
# POST /v1/verifications on the survivors keeps answering. The test log reports the
# takeover time and the verification tallies before, during and after.
#
#   deploy/dev/scaleout.sh              # ~1,500 enterprises, 3,000 persons (~150k records)
#   VERIHUB_E2E_ENTERPRISES=3000 VERIHUB_E2E_PERSONS=6000 deploy/dev/scaleout.sh
#
# Every run uses its own topic prefix, consumer group and Redis key prefix and removes
# them afterwards; the shared services keep running.
set -euo pipefail
cd "$(dirname "$0")/../.."

STATE=${STATE:-$HOME/.cache/verihub-dev}
export STATE
deploy/dev/redis.sh start
deploy/dev/kafka.sh start

export VERIHUB_TEST_REDIS_ADDR=${VERIHUB_TEST_REDIS_ADDR:-127.0.0.1:${REDIS_PORT:-16379}}
export VERIHUB_TEST_KAFKA_BROKERS=${VERIHUB_TEST_KAFKA_BROKERS:-127.0.0.1:${KAFKA_PORT:-19092}}
export VERIHUB_E2E_SCALEOUT=1
exec go test -count=1 -timeout 15m -run '^TestScaleOut$' -v ./hub/e2e/ "$@"
