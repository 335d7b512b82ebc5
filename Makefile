# authsift - make targets. `make help` lists them.
GO        ?= go
BIN       ?= bin/authsift
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.version=$(VERSION)
BENCH_OUT ?= out

.PHONY: help build test test-integration test-real real-capture lint bench bench-file bench-e2e bench-load fuzz rules-test golden demo clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/authsift
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/authsift

test: ## run every test (unit, decoders on real logs, the catalog's rule tests, CLI), with the race detector
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...
	$(GO) run ./cmd/authsift rules test

test-integration: build ## the integration suite: real Kafka 4.x (1 and 3 KRaft brokers, .ci/kafka), real ClickHouse, the authsift binary, faults
	AUTHSIFT_BIN=$(CURDIR)/$(BIN) $(GO) test -tags integration -count=1 -timeout 25m -v -run 'TestBroker|TestIntegration' \
	  ./ingest/kafkatest ./ingest

test-real: ## the real-server suite: Keycloak 26.5 (text + JSON logs), nginx, oauth2-proxy and Ory Hydra v2.3.0 started on loopback (.ci/real/install), driven through their failures, every captured line checked
	bash .ci/real/install
	AUTHSIFT_TEST_REAL=required $(GO) test -count=1 -timeout 20m -v -run 'TestKeycloak|TestHydra|TestCapturedLogs' ./ingest/realserver

real-capture: ## run the real-server suite and write its fresh captures into ingest/testdata (then `make golden`)
	bash .ci/real/install
	AUTHSIFT_TEST_REAL=required $(GO) test -count=1 -timeout 20m -v -run 'TestKeycloak|TestHydra' ./ingest/realserver -update

lint: ## gofmt, go vet (also of the integration suite) and the import rules of .ci/check-imports (with its self-test)
	@test -z "$$(gofmt -l .)" || (echo "gofmt needed:"; gofmt -l .; exit 1)
	$(GO) vet ./...
	$(GO) vet -tags integration ./ingest/...
	@./.ci/check-imports
	@./.ci/check-imports --self-test

rules-test: ## run the catalog's test cases
	$(GO) run ./cmd/authsift rules test -v

golden: ## rewrite the decoders' golden files after a deliberate change
	$(GO) test ./ingest -run TestGolden -update

fuzz: ## fuzz the decoders and the catalog loader for 30s each
	$(GO) test ./ingest -run '^$$' -fuzz FuzzDecode -fuzztime 30s
	$(GO) test ./rules -run '^$$' -fuzz FuzzParse -fuzztime 30s

bench: ## micro-benchmarks: classify-only and decode+classify
	$(GO) test -run '^$$' -bench . -benchmem -count 5 ./classify ./ingest ./ingest/gen ./ingest/redact

bench-file: build ## `authsift classify` throughput and peak RSS on generated 256MB and 1GB files
	@mkdir -p $(BENCH_OUT)
	@for size in 256MB 1GB; do \
	  ./$(BIN) gen --bytes $$size > $(BENCH_OUT)/gen-$$size.log; \
	  lines=$$(wc -l < $(BENCH_OUT)/gen-$$size.log); \
	  /usr/bin/time -f "%e s elapsed, %U s user, %M KiB peak RSS" -o $(BENCH_OUT)/time-$$size.txt \
	    ./$(BIN) classify -o jsonl $(BENCH_OUT)/gen-$$size.log > /dev/null; \
	  echo "$$size: $$lines lines: $$(cat $(BENCH_OUT)/time-$$size.txt)"; \
	  rm -f $(BENCH_OUT)/gen-$$size.log; \
	done

bench-e2e: build ## the service as its own process: kfake -> authsift serve -> real ClickHouse; throughput, p99 to queryable, peak RSS
	AUTHSIFT_BENCH_E2E=1 AUTHSIFT_BIN=$(CURDIR)/$(BIN) AUTHSIFT_BENCH_PROFILE=$(AUTHSIFT_BENCH_PROFILE) AUTHSIFT_BENCH_ARGS="$(AUTHSIFT_BENCH_ARGS)" AUTHSIFT_BENCH_RATE=$(AUTHSIFT_BENCH_RATE) AUTHSIFT_BENCH_LINES=$${AUTHSIFT_BENCH_LINES:-1000000} \
	  $(GO) test -count=1 -run TestBenchE2E -v -timeout 30m ./ingest | grep -E 'RESULT|phase|pre-filled|profile|serve (flags|log)|^(ok|FAIL|---)'

bench-load: build ## sustained load on real Kafka + ClickHouse for minutes: flat memory, bounded lag, exact storage (AUTHSIFT_LOAD_RATE, AUTHSIFT_LOAD_DURATION)
	AUTHSIFT_BENCH_LOAD=1 AUTHSIFT_TEST_KAFKA=required AUTHSIFT_BIN=$(CURDIR)/$(BIN) \
	  $(GO) test -tags integration -count=1 -run TestLoadSustained -v -timeout 40m ./ingest | grep -E 'RESULT|sample|^(ok|FAIL|---)|load_test'

demo: build ## run everything on this machine (in-process Kafka, generator, service, local ClickHouse if installed)
	./$(BIN) demo

clean: ## remove build and benchmark output
	rm -rf bin $(BENCH_OUT)
