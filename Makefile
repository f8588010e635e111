# firmward — make help lists the targets.
GO        ?= go
BIN       ?= bin/firmward
DATA      ?= ./firmward-data
ADDR      ?= 127.0.0.1:8080
GOLANGCI  ?= github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0
PKGS      ?= ./...
FUZZTIME  ?= 20s

SHELL     := /bin/bash

.PHONY: help build run test test-short bench fuzz lint e2e-deps clean

help: ## list the targets
	@awk 'BEGIN{FS=":.*## "} /^[a-z-]+:.*## /{printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## build the firmward binary into bin/
	$(GO) build -trimpath -o $(BIN) ./cmd/firmward

.PHONY: agent-all
agent-all: ## build static firmward-agent binaries for linux amd64, arm, arm64, mips into bin/
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -trimpath -ldflags "-s -w" -o bin/firmward-agent-linux-amd64 ./cmd/firmward-agent
	CGO_ENABLED=0 GOOS=linux GOARCH=arm GOARM=7 $(GO) build -trimpath -ldflags "-s -w" -o bin/firmward-agent-linux-arm ./cmd/firmward-agent
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -trimpath -ldflags "-s -w" -o bin/firmward-agent-linux-arm64 ./cmd/firmward-agent
	CGO_ENABLED=0 GOOS=linux GOARCH=mips GOMIPS=softfloat $(GO) build -trimpath -ldflags "-s -w" -o bin/firmward-agent-linux-mips ./cmd/firmward-agent
	@ls -l bin/firmward-agent-linux-*

run: ## run firmward on the embedded SQLite default (http://127.0.0.1:8080)
	$(GO) run ./cmd/firmward serve --addr $(ADDR) --data $(DATA)

test: e2e-deps ## vet and run every test (PostgreSQL and Chromium tests skip when absent, fail under CI=true)
	@if [ -z "$$FIRMWARD_TEST_POSTGRES" ] && ! (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then \
		echo "NOTE: PostgreSQL is not reachable at 127.0.0.1:5432: the PostgreSQL half of the tests is SKIPPED (set FIRMWARD_TEST_POSTGRES to run it; CI=true makes it fail)."; fi
	@if [ ! -x /usr/bin/chromium ] || [ ! -d e2e/browser/node_modules/playwright-core ]; then \
		echo "NOTE: Chromium (/usr/bin/chromium) or playwright-core is missing: the browser test is SKIPPED (apt-get install chromium; CI=true makes it fail)."; fi
	$(GO) vet $(PKGS)
	$(GO) test -count=1 -timeout 20m $(PKGS)

test-short: ## the tests without the browser and PostgreSQL runs
	$(GO) test -short $(PKGS)

e2e-deps: ## install playwright-core for the browser test (needs npm; skipped without it)
	@if [ -f e2e/browser/package.json ] && command -v npm >/dev/null 2>&1 && [ ! -d e2e/browser/node_modules/playwright-core ]; then \
		npm ci --prefix e2e/browser --no-audit --no-fund; fi

bench: ## run the benchmarks (see docs/BENCHMARKS.md)
	$(GO) test -run '^$$' -bench 'Import100k' -benchtime 3x -timeout 30m ./sqlstore/
	$(GO) test -run '^$$' -bench 'ListFiltered|DeviceStats' -benchtime 2000x -timeout 60m ./sqlstore/
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m ./bench/
	$(GO) test -run '^$$' -bench 'BasePoll' -benchtime 3s -count 3 -timeout 30m ./ddi/
	$(GO) test -run '^$$' -bench 'CampaignStep' -benchtime 10x -timeout 30m ./sqlstore/
	FIRMWARD_BENCH_POLL=60s FIRMWARD_BENCH_CAMPAIGN_INTERVAL=5s $(GO) test -run '^$$' -bench 'Campaign100k' -benchtime 1x -timeout 40m -v ./cmd/firmward/

fuzz: ## run every fuzz target for FUZZTIME each
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
			echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; done

lint: ## golangci-lint with the linters listed in .golangci.yml
	$(GO) run $(GOLANGCI) run ./...

clean: ## remove build output and test results
	rm -rf bin test-results
