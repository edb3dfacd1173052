# engage-etl: `make demo` loads a simulated tenant into the local PostgreSQL,
# `make test` runs every test (race detector on) against a real PostgreSQL.

GO       ?= go
LOCAL_PG := postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable

# Tests take their PostgreSQL from ENGAGE_ETL_TEST_DATABASE_URL; when it is
# unset and a local server answers, that one; otherwise testcontainers starts
# one where Docker runs, and the tests fail loudly where nothing is available.
ENGAGE_ETL_TEST_DATABASE_URL ?= $(shell pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && echo '$(LOCAL_PG)')
export ENGAGE_ETL_TEST_DATABASE_URL

.PHONY: all build test test-short lint bench bench-fleet bench-go fuzz demo clean

all: lint test

build:
	$(GO) build -buildvcs=auto -o bin/engage-etl ./cmd/engage-etl  # auto: stamp the commit where git can tell it

test:
	$(GO) test -race -count=1 ./...

# The tests a developer runs all day: pure and in-process tests, PostgreSQL
# ones included; no child processes, private clusters or outside tools
# (go test -short skips those; make test, which CI runs, runs everything).
# -p 4 -parallel 4: the PostgreSQL tests with a database each wait on the
# server as much as they compute, so twice the cores' packages and tests run
# at once (here: 40 s instead of 52 s with the defaults).
test-short:
	$(GO) test -short -count=1 -p 4 -parallel 4 ./...

lint:
	@unformatted="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

# The end-to-end benchmark (README, "Benchmarks"): simulator, backfills, psql
# \copy baseline, re-run, incremental sync, rebuild; prints PASS/MISS per
# target and writes bench/results-DATE.md. BENCH_PRESET=small tries it in a
# minute; BENCH_DAYS and BENCH_SCALE override the preset's tenant.
BENCH_PRESET ?= default
BENCH_DAYS   ?= 0
BENCH_SCALE  ?= 0
bench:
	$(GO) run ./cmd/engage-bench -preset $(BENCH_PRESET) -days $(BENCH_DAYS) -scale $(BENCH_SCALE) \
		-database-url '$(or $(BENCH_DATABASE_URL),$(LOCAL_PG))'
	$(MAKE) bench-fleet

# The fleet benchmark: FLEET_TENANTS simulated tenants (200) loaded by three
# daemons on one warehouse at the simulator's per-token rate limit; writes
# bench/fleet-DATE.md (429s, completion spread, connections, RSS).
FLEET_TENANTS ?= 200
bench-fleet:
	$(GO) run ./cmd/engage-bench -fleet $(FLEET_TENANTS) -database-url '$(or $(BENCH_DATABASE_URL),$(LOCAL_PG))'

# The Go micro-benchmarks.
bench-go:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# Every fuzz target, FUZZTIME each. `make test` runs their seed corpora
# (testdata/fuzz/FuzzXxx and f.Add) as ordinary tests; a crasher the
# fuzzer finds is written to testdata/fuzz: commit it with the fix.
FUZZTIME ?= 30s
FUZZ_TARGETS := \
	decode:FuzzArray decode:FuzzDecimal decode:FuzzCoerce decode:FuzzDecodeIntoMatchesUnmarshal \
	engage:FuzzPageItems engage:FuzzPath \
	kinds:FuzzDecode \
	transform:FuzzReportRows \
	extract:FuzzPlan extract:FuzzRanges \
	config:FuzzLoad
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t#*:}; \
		echo "fuzz $$name ($$pkg)"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) ./internal/$$pkg/; \
	done

demo:
	$(GO) run ./cmd/engage-etl demo

clean:
	rm -rf bin
