# Vantage — build and test.
#
#   make test    install what the tests need, check formatting, vet, run every test with -race
#   make bench   run the probe benchmarks
#   make fuzz    run each fuzz target for FUZZTIME (default 30s)

GO        ?= go
PKGS      := ./...
FUZZTIME  ?= 30s

.PHONY: all build test deps fmt-check vet test-race bench fuzz

all: build

build:
	$(GO) build -o vantage ./cmd/vantage

# deps installs the system packages the tests need. Nothing is needed yet
# beyond Go itself; later slices add Chromium, promtool, … here.
deps:
	@command -v $(GO) >/dev/null || { echo "go is not on PATH" >&2; exit 1; }

fmt-check:
	@out=$$(gofmt -l $$(find . -name '*.go' -not -path './.git/*')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

test-race:
	$(GO) test -race -count=1 -timeout 15m $(PKGS)

test: deps fmt-check vet test-race

bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 5 ./probes/

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzDecode -fuzztime $(FUZZTIME) ./config/
	$(GO) test -run '^$$' -fuzz FuzzParseTarget -fuzztime $(FUZZTIME) ./config/
