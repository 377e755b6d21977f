#!/usr/bin/env bash
# Every end-to-end measurement: API load, then ingest. Arguments go to both
# (--runs N, --enterprises N, --persons N). Set BENCH_DIR to keep generated data
# between invocations.
set -euo pipefail
here=$(dirname "$0")
"$here/api.sh" "$@"
"$here/ingest.sh" "$@"
