# ssocutover: the two commands a new user needs are `make demo` and `make test`.
#
# The Temporal CLI (which carries the dev server), staticcheck and helm (which renders
# the chart in the tests) are Go tools in modules of their own under tools/, built
# from the Go module proxy into bin/ on first use: nothing is downloaded at run time.

GO        ?= go
BIN       := $(CURDIR)/bin
TEMPORAL  := $(BIN)/temporal
STATICCHECK := $(BIN)/staticcheck
HELM      := $(BIN)/helm
TEST_FLAGS ?= -count=1 -timeout 30m

export SSOCUTOVER_TEMPORAL_CLI := $(TEMPORAL)
export SSOCUTOVER_HELM := $(HELM)

.PHONY: all build demo test test-race test-short test-ui lint bench chaos chaos-short dev-server worker tools clean-data

all: build

tools: $(TEMPORAL) $(STATICCHECK) $(HELM)

$(TEMPORAL): tools/go.mod tools/go.sum
	cd tools && $(GO) build -o $(TEMPORAL) github.com/temporalio/cli/cmd/temporal

$(STATICCHECK): tools/lint/go.mod tools/lint/go.sum
	cd tools/lint && $(GO) build -o $(STATICCHECK) honnef.co/go/tools/cmd/staticcheck

# Helm renders the chart in deploy/helm in the tests (helm template, offline).
$(HELM): tools/helm/go.mod tools/helm/go.sum
	cd tools/helm && $(GO) build -o $(HELM) helm.sh/helm/v4/cmd/helm

## build: the product (bin/worker, bin/starter) and the simulator (bin/demo, bin/sandbox).
build:
	$(GO) build -o $(BIN)/ ./worker ./starter ./sandbox/cmd/demo ./sandbox/cmd/sandbox

## demo: a cutover of the sample organisation on a local Temporal dev server and sandbox;
## DEMO_FLAGS go to bin/demo, e.g. make demo DEMO_FLAGS="--until preflight --json --exit".
DEMO_FLAGS ?=
demo: $(TEMPORAL) build
	$(BIN)/demo --temporal-cli $(TEMPORAL) $(DEMO_FLAGS)

## test: vet, then every test, the end-to-end tests against a real dev server included, then
## the race detector over the packages where it is affordable (those that do not build the Graph
## SDK, whose race build takes minutes and gigabytes), then a short chaos campaign.
RACE_PACKAGES := ./workflows ./workflows/gate ./workflows/statusview \
	./internal/apicalls ./internal/approval ./internal/attrmap ./internal/awsclient ./internal/codec \
	./internal/leakscan ./internal/logging ./internal/partition ./internal/preflight ./internal/progress \
	./internal/readiness ./internal/samlmeta ./internal/secretstore ./internal/store ./internal/temporalclient
test: $(TEMPORAL) $(HELM)
	$(GO) vet ./...
	$(GO) test $(TEST_FLAGS) ./...
	$(GO) test -race $(TEST_FLAGS) $(RACE_PACKAGES)
	$(MAKE) chaos-short

## test-race: every test under the race detector (slow: it builds the Graph SDK for it).
test-race: $(TEMPORAL) $(HELM)
	$(GO) test -race $(TEST_FLAGS) -timeout 60m ./...

## test-ui: the Temporal UI in headless Chromium at each gate of the demo (decrypted input, the
## open gate in Current Details, every command in a code element and parsing). Installs Debian's
## chromium when it is missing; a screenshot of each gate lands in .artifacts/ui.
test-ui: $(TEMPORAL)
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)
	$(GO) vet -tags uitest ./sandbox/cmd/demo/
	SSOCUTOVER_UI_ARTIFACTS=$(CURDIR)/.artifacts/ui $(GO) test -tags uitest -run TestTemporalUIAtEachGate -count=1 -v ./sandbox/cmd/demo/

lint: $(STATICCHECK)
	@test -z "$$(gofmt -l . | grep -v '^tools/')" || (gofmt -l . ; echo 'gofmt: the files above need formatting'; exit 1)
	$(GO) vet ./...
	$(GO) vet -tags chaos ./internal/e2e/
	$(STATICCHECK) ./...

## bench: the preflight on tall organisations of 1,000, 10,000 and 100,000 users and a wide one, and the 100,000-user inventory resumed after a kill (see README, "Scale").
bench: $(TEMPORAL)
	$(GO) test -run '^$$' -bench 'BenchmarkPreflight|BenchmarkInventoryResume' -benchtime 1x -timeout 90m ./internal/e2e/

## chaos: the crash-and-fault campaign (README, "Reliability"): CHAOS_RUNS runs (default 50) of
## a cutover (half of them followed by a token rotation) or a rollback from a random gate, with
## the worker killed at random and faults injected; CHAOS_SEED=N (or N,M,...) replays runs; the
## summary goes to .artifacts/chaos.json.
## CHAOS_PARALLEL runs at once: a run mostly waits for the timeouts that tell Temporal a killed
## worker's activity is lost.
CHAOS_RUNS ?= 50
CHAOS_PARALLEL ?= 5
chaos: $(TEMPORAL)
	mkdir -p .artifacts
	CHAOS_RUNS=$(CHAOS_RUNS) CHAOS_REPORT=$(CURDIR)/.artifacts/chaos.json $(GO) test -tags chaos -run TestChaos -count=1 -timeout 600m -parallel $(CHAOS_PARALLEL) -v ./internal/e2e/

## chaos-short: the campaign's three paths, one run each (part of make test): seed 2 completes
## and rotates the token, seed 5 rolls back from the SCIM gate, seed 6 from confirm sign-in.
CHAOS_SHORT_SEEDS ?= 2,5,6
chaos-short: $(TEMPORAL)
	mkdir -p .artifacts
	CHAOS_SEED=$(CHAOS_SHORT_SEEDS) $(GO) test -tags chaos -run TestChaos -count=1 -timeout 30m -parallel 3 -v ./internal/e2e/ \
		> .artifacts/chaos-short.log 2>&1 || (tail -n 300 .artifacts/chaos-short.log; exit 1)
	grep -E '^chaos:|seed [0-9]+:' .artifacts/chaos-short.log

## dev-server: a local Temporal server that keeps its state in .data/temporal.db.
dev-server: $(TEMPORAL)
	mkdir -p .data
	$(TEMPORAL) server start-dev --ip 127.0.0.1 --db-filename .data/temporal.db

worker: build
	$(BIN)/worker

clean-data:
	rm -rf .data
