# keytrail build, test, benchmark and demo targets.
GO       ?= go
BIN      := bin/keytrail
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X github.com/keytrail/keytrail/internal/cli.Version=$(VERSION)

.PHONY: build test fuzz bench lint demo clean accuracy pgo

# CGO_ENABLED=0: a static binary, which runs on any Linux and does not map
# libc (1.5 MB less resident on every run; see BENCHMARKS.md).
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/keytrail

# The test command CI runs (.ci/run) and the README gives: unit tests,
# then every fuzz target briefly (TEST_FUZZTIME each).
TEST_FUZZTIME ?= 3s
test: lint
	$(GO) test -count=1 -timeout 30m ./...
	FUZZTIME=$(TEST_FUZZTIME) GO=$(GO) ./scripts/fuzz.sh

# Every fuzz target for FUZZTIME each (scripts/fuzz.sh finds them).
FUZZTIME ?= 1m
fuzz:
	FUZZTIME=$(FUZZTIME) GO=$(GO) ./scripts/fuzz.sh

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# Engine benchmarks, the accuracy corpus, and side-by-side runs against
# gitleaks on a directory tree and a git history (see BENCHMARKS.md).
bench: build
	$(GO) test -run '^$$' -bench . -benchtime 3x ./scanner/ ./scanner/kwmatch/
	$(GO) test -run '^$$' -bench . -benchtime 3x ./scanner/githubsource/
	$(GO) test -count=1 -v -run TestAccuracyCorpus ./internal/corpus | grep accuracy
	RUNS=3 ./scripts/bench.sh
	FULL_BLOBS=1 ./scripts/bench-git.sh
	./scripts/bench-cloudtrail.sh

# Precision, recall and F1 on labelled real code (CredData; see
# BENCHMARKS.md). CORPUS=DIR points elsewhere; without a corpus it says so.
accuracy:
	CORPUS=$(CORPUS) ./scripts/accuracy.sh

# Scan the bundled demo tree with planted fake keys. Exits 0 when the
# scan found them (keytrail itself exits 1 on findings).
demo: build
	@./scripts/demo.sh

clean:
	rm -rf bin .bench testdata/demo-repo testdata/demo-audit.html

# Rewrite cmd/keytrail/default.pgo from inputs no benchmark times
# (scripts/pgo.sh says which).
pgo:
	./scripts/pgo.sh
