# Vantage — build and test.
#
#   make test    install what the tests need, check formatting, vet, run every test with -race
#                (and the SIGKILL test once more without it, for its timing bound)
#   make bench   run the probe benchmarks
#   make fuzz    run each fuzz target for FUZZTIME (default 30s); make test gives each 8s
#   make soak    serve + 2 agents under the race detector for SOAK_DURATION (default 10m)

GO        ?= go
PKGS      := ./...
FUZZTIME  ?= 30s
FUZZTIME_SHORT ?= 8s

.PHONY: all build test deps fmt-check vet test-race test-timing bench bench-deps fuzz fuzz-short soak templ templ-check

all: build

# build makes a static binary (no cgo: Vantage needs none, and the binary
# then runs anywhere, in a scratch container too). It also keeps libc out
# of the process: about 1.4 MiB less RSS under vantage bench.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -o vantage ./cmd/vantage

# sudo when not root (CI runs as root).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# deps installs the system packages the tests need: Chromium for the
# browser checks (Debian package "chromium"), iproute2 for the network
# namespace of the partition test, promtool (package "prometheus") to lint
# /metrics, blackbox_exporter, which /probe's output is compared with, and
# Alertmanager, which the alertmanager notifier is tested against.
deps:
	@command -v $(GO) >/dev/null || { echo "go is not on PATH" >&2; exit 1; }
	@if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1 && ! command -v google-chrome >/dev/null 2>&1; then \
		echo "installing chromium (browser checks and their tests need it)"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; \
	fi
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || command -v google-chrome >/dev/null 2>&1 || { echo "chromium is missing and could not be installed" >&2; exit 1; }
	@if ! command -v promtool >/dev/null 2>&1; then \
		echo "installing prometheus (for promtool)"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq prometheus >/dev/null; \
	fi
	@if ! command -v prometheus-blackbox-exporter >/dev/null 2>&1; then \
		echo "installing prometheus-blackbox-exporter (/probe is compared with it)"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq prometheus-blackbox-exporter >/dev/null; \
	fi
	@if ! command -v prometheus-alertmanager >/dev/null 2>&1; then \
		echo "installing prometheus-alertmanager (the alertmanager notifier is tested against it)"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq prometheus-alertmanager >/dev/null; \
	fi
	@if ! command -v ip >/dev/null 2>&1; then \
		echo "installing iproute2 (the partition test makes a network namespace)"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq iproute2 >/dev/null; \
	fi

fmt-check:
	@out=$$(gofmt -l $$(find . -name '*.go' -not -path './.git/*')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

test-race:
	$(GO) test -race -count=1 -timeout 15m $(PKGS)

# test-timing runs the tests whose bounds assume full speed without the
# race detector, which is several times slower: the SIGKILL test's "every
# result older than the 1 s batch window survives" at 1,000 checks a second
# (under -race it checks what the server reported committed instead).
test-timing:
	$(GO) test -count=1 -timeout 5m -run '^TestCrashKeepsCommittedResults$$' ./cmd/vantage/

# templ generates the *_templ.go files from the *.templ files; they are
# committed. templ-check regenerates them in a temporary directory and
# fails when a committed one differs (stale: run make templ).
TEMPL ?= $(GO) run github.com/a-h/templ/cmd/templ@v0.3.960

templ:
	@for d in $$(find . -name '*.templ' -not -path './.git/*' -exec dirname {} \; | sort -u); do \
		$(TEMPL) generate -path "$$d" || exit 1; \
	done

templ-check:
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	for d in $$(find . -name '*.templ' -not -path './.git/*' -exec dirname {} \; | sort -u); do \
		mkdir -p "$$tmp/$$d" && cp "$$d"/*.templ "$$tmp/$$d/" || exit 1; \
		$(TEMPL) generate -path "$$tmp/$$d" >/dev/null 2>&1 || { $(TEMPL) generate -path "$$tmp/$$d"; exit 1; }; \
	done; \
	stale=0; \
	for g in $$(cd "$$tmp" && find . -name '*_templ.go'); do \
		cmp -s "$$tmp/$$g" "$$g" || { echo "stale or missing: $$g (run make templ)"; stale=1; }; \
	done; \
	for g in $$(find . -name '*_templ.go' -not -path './.git/*'); do \
		[ -f "$$tmp/$$g" ] || { echo "no .templ file for $$g"; stale=1; }; \
	done; \
	exit $$stale

test: deps fmt-check templ-check vet test-race test-timing fuzz-short

# bench-deps installs wrk, which drives the status page benchmark.
bench-deps:
	@if ! command -v wrk >/dev/null 2>&1; then \
		echo "installing wrk (status page benchmark)"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq wrk >/dev/null; \
	fi

bench: bench-deps build
	$(GO) test -run '^$$' -bench . -benchmem -count 5 ./probes/
	$(GO) test -run '^$$' -bench 'BenchmarkStatusPageWrk|BenchmarkServe1000HTTPChecks' -benchtime 1x -count 3 ./cmd/vantage/
	./vantage bench --checks 1000 --interval 1s --duration 60s --warmup 10s

# soak runs serve and two agents with 500 checks (every tenth against a
# hostile or flaky target) for SOAK_DURATION, twice: built with the race
# detector (a race fails it; goroutines flat, no notification twice, no
# Chromium left behind, every result stored), then without it, where RSS
# must stay flat too (the race detector's own memory grows with every
# allocation, so it cannot judge RSS). vantage bench --soak; not part of
# make test.
SOAK_DURATION ?= 10m
SOAK_FLAGS = bench --soak --checks 500 --agents 2 --mix http,tcp,dns,tls --interval 5s --warmup 30s --duration $(SOAK_DURATION) --log-level info
soak:
	$(GO) build -race -o vantage-race ./cmd/vantage
	./vantage-race $(SOAK_FLAGS)
	$(MAKE) --no-print-directory build
	./vantage $(SOAK_FLAGS)

# FUZZ_TARGETS are the fuzz targets, as package:Target; each runs on its
# own (go test -fuzz takes one target of one package at a time).
FUZZ_TARGETS := ./config:FuzzDecode ./config:FuzzParseTarget ./config:FuzzParseBlackbox \
	./server:FuzzAgentIngest ./server:FuzzIncidentAPI ./probes:FuzzDNSExpect

#
# Go 1.26's fuzz coordinator can fail a target with a bare "context
# deadline exceeded" as -fuzztime ends, when a worker is slow to stop
# (golang/go#75804, fixed in Go 1.27): no input failed, none is written.
# That one failure is reported and passed; any other fails the run.
fuzz:
	@set -e; out=$$(mktemp); trap 'rm -f "$$out"' EXIT; \
	for t in $(FUZZ_TARGETS); do \
		echo "fuzz $${t#*:} in $${t%%:*} for $(FUZZTIME)"; \
		rc=0; $(GO) test -run '^$$' -fuzz "^$${t#*:}$$" -fuzztime $(FUZZTIME) "$${t%%:*}" >"$$out" 2>&1 || rc=$$?; \
		cat "$$out"; \
		[ $$rc = 0 ] && continue; \
		if grep -qx '    context deadline exceeded' "$$out" && ! grep -q 'Failing input written\|panic:' "$$out" && \
			[ "$$(grep -c '^--- FAIL' "$$out")" = 1 ]; then \
			echo "$${t#*:}: the fuzz coordinator's stop race (golang/go#75804), not a failing input: passed"; \
		else exit $$rc; fi; \
	done

# fuzz-short gives every fuzz target a few seconds of fuzzing in make test
# (plain go test only runs their seeds).
fuzz-short:
	@$(MAKE) --no-print-directory fuzz FUZZTIME=$(FUZZTIME_SHORT)
