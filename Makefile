# verihub — build, test, lint, bench.
#
# make test   : lint, start the real Redis and Kafka used by the integration tests (installed
#               by deploy/dev/*.sh when absent), then the whole suite with -race.
# make bench  : long benchmarks and the end-to-end load measurements.

SHELL := /bin/bash
GO ?= go
GOBIN := $(shell $(GO) env GOPATH)/bin
STATICCHECK_VERSION ?= v0.8.2
TEST_FLAGS ?= -race -shuffle=on -timeout 18m
STATE ?= $(HOME)/.cache/verihub-dev

export VERIHUB_TEST_REDIS_ADDR ?= 127.0.0.1:16379
export VERIHUB_TEST_KAFKA_BROKERS ?= 127.0.0.1:19092
export VERIHUB_INTEROP_DIR ?= $(STATE)/interop
export VERIHUB_KUBERNETES_VALIDATE ?= $(STATE)/validators/kv/bin/kubernetes-validate
export VERIHUB_DCLINT ?= $(STATE)/validators/dclint/node_modules/.bin/dclint
export VERIHUB_ARTIFACTS ?= $(CURDIR)/artifacts

.PHONY: all build test unit lint tools services services-stop test-tools agreement bench fuzz

all: build

build:
	$(GO) build ./...

tools:
	@test -x $(GOBIN)/staticcheck || $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

lint: tools
	$(GO) vet ./...
	$(GOBIN)/staticcheck ./...
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi

services:
	STATE=$(STATE) deploy/dev/redis.sh start
	STATE=$(STATE) deploy/dev/kafka.sh start

# test-tools installs what the cross-language, deploy and browser tests drive: JOSE
# libraries in Python, Node and Java (interop.sh), promtool, kubernetes-validate and dclint
# (validators.sh), and Debian's chromium (chromium.sh). Browser screenshots go to
# $(VERIHUB_ARTIFACTS) (not committed).
test-tools:
	STATE=$(STATE) deploy/dev/interop.sh install
	STATE=$(STATE) deploy/dev/validators.sh install
	deploy/dev/chromium.sh
	mkdir -p $(VERIHUB_ARTIFACTS)

services-stop:
	@for s in kafka redis; do if [ -x deploy/dev/$$s.sh ]; then STATE=$(STATE) deploy/dev/$$s.sh stop; fi; done

# unit runs the suite with no services: integration tests skip with a message.
unit:
	env -u VERIHUB_TEST_REDIS_ADDR -u VERIHUB_TEST_KAFKA_BROKERS $(GO) test $(TEST_FLAGS) ./...

test: lint services test-tools
	$(GO) test $(TEST_FLAGS) ./...
	$(MAKE) agreement

# agreement compares the CEL packs with the generator's independent oracle on the full
# data set of the issue (10k enterprises, 50k persons, every pack); without -race.
agreement:
	VERIHUB_AGREEMENT_FULL=1 $(GO) test -count=1 -timeout 10m -run TestPacksAgreeWithOracle ./hub/

# bench: Go benchmarks (-count 5, take medians), then the end-to-end load scripts on an
# embedded hub (deploy/bench: verify 5,000/s for 60 s, batch, screening, sign rate,
# ingest of ~1M records). Long; BENCH_RUNS (default 3) runs each, BENCH_DIR keeps data.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 5 ./...
	deploy/bench/all.sh --runs $${BENCH_RUNS:-3}

fuzz:
	@for p in $$($(GO) list ./...); do for f in $$($(GO) test -list '^Fuzz' $$p | grep '^Fuzz'); do $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime 20s $$p || exit 1; done; done
