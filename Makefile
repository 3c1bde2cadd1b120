# Passage: `make run` starts the server on a private Postgres, `make test` checks everything.
# `make` alone lists the targets: each documented one carries a `## ` comment.

GO ?= go
GOFMT ?= $(shell $(GO) env GOROOT)/bin/gofmt
# The code generators are pinned as tool directives in their own module, away from the
# server's dependencies. GOWORK=off is needed there, and buf passes it on to the plugins
# that buf.gen.yaml runs through `go tool`.
TOOLS = GOWORK=off $(GO) tool -modfile=$(CURDIR)/internal/tools/go.mod

# Private clusters started by deploy/local/postgres.sh when DATABASE_URL is unset.
PG = deploy/local/postgres.sh
DEV_PG_PORT ?= 55432
TEST_PG_PORT ?= 55433
# Branch whose contracts `make breaking` compares against.
BREAKING_AGAINST ?= main

.DEFAULT_GOAL := help
# The steps share two cores and a Postgres: run them one at a time even under -j.
.NOTPARALLEL:

.PHONY: help
help: ## list the targets
	@awk 'BEGIN { FS = ":.*## " } /^[a-zA-Z0-9_-]+:.*## / { printf "  %-15s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

# Every command under cmd/: passage, the per-service mains (passage-intake, …) and passage-load.
COMMANDS = $(notdir $(wildcard cmd/*))

.PHONY: build
build: ## build every command under cmd/ into bin/ (passage, passage-<service>, passage-load)
	@echo "==> build ($$(date +%T))"
	$(GO) build -o bin/ $(addprefix ./cmd/,$(COMMANDS))

.PHONY: run
run: build ## run the server in dev mode (starts a private Postgres on port 55432 unless DATABASE_URL is set)
	@set -e; \
	url=$${DATABASE_URL:-}; \
	if [ -z "$$url" ]; then url=$$($(PG) start dev $(DEV_PG_PORT)); fi; \
	DATABASE_URL=$$url bin/passage migrate up; \
	DATABASE_URL=$$url exec bin/passage serve --dev

.PHONY: test
test: generate-check lint breaking-if-branch vuln test-go deploy-check-promtool restore-drill image-test ## everything CI checks: generated code, lint, contracts, known vulnerabilities, Go tests with -race, the deployment files, the restore drill, the images

.PHONY: restore-drill
restore-drill: ## back up a running Passage (database and keys), lose both, restore them and check a case, its identity, a note and the audit chains read back (deploy/local/restore-drill.sh)
	@echo "==> restore-drill ($$(date +%T))"
	deploy/local/restore-drill.sh

.PHONY: test-go
test-go: minio ## only the Go tests, with the race detector (starts a private Postgres on port 55433 unless DATABASE_URL is set)
	@echo "==> go test ($$(date +%T))"
	@set -e; \
	url=$${DATABASE_URL:-}; \
	if [ -z "$$url" ]; then url=$$(PG_PROFILE=test $(PG) start test $(TEST_PG_PORT)); fi; \
	DATABASE_URL=$$url $(GO) test -race -count=1 -timeout 10m ./... ./proto/...

# --- image (issue 19): the OCI images, built without a container engine ---
# The server's commands (every cmd/ but the load generator), static and stripped of build paths.
IMAGE_COMMANDS = $(filter-out passage-load,$(COMMANDS))
IMAGE_BIN = .cache/image/bin
# Offline by default: only the module cache (filled by `make build` or `go mod download`).
IMAGE_GOPROXY ?= off
# What the images and binaries are stamped with, from git: the tag on HEAD, else a Go
# pseudo-version of the commit ("+dirty" with uncommitted changes), the commit, and its time
# (every file's time in the images). Go's own VCS stamping is off (-buildvcs=false): it
# misses git worktrees, and the binaries must be the same bytes wherever the commit is built.
IMAGE_REVISION ?= $(shell git rev-parse HEAD)
IMAGE_VERSION ?= $(shell v=$$(git describe --tags --exact-match 2>/dev/null || \
	TZ=UTC git log -1 --abbrev=12 --date=format-local:%Y%m%d%H%M%S --format=v0.0.0-%cd-%h); \
	if [ -n "$$(git status --porcelain)" ]; then v=$$v+dirty; fi; echo $$v)
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct)

# $(call image-build,BINDIR,OUTDIR): the binaries into BINDIR, the images into OUTDIR.
define image-build
	rm -rf $(1) $(2) && mkdir -p $(1) $(2)
	CGO_ENABLED=0 GOPROXY=$(IMAGE_GOPROXY) GOFLAGS=-mod=readonly $(GO) build -trimpath -buildvcs=false \
		-ldflags='-s -w -X github.com/passage-cm/passage/internal/buildinfo.override=$(IMAGE_VERSION)' \
		-o $(1)/ $(addprefix ./cmd/,$(IMAGE_COMMANDS))
	SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) GOPROXY=$(IMAGE_GOPROXY) GOFLAGS=-mod=readonly GOOS= GOARCH= \
		$(GO) run ./deploy/image/ocibuild -bin $(1) -out $(2)/oci -archive $(2)/passage.tar \
		-version $(IMAGE_VERSION) -revision $(IMAGE_REVISION) > $(2)/digest
endef

.PHONY: image
image: ## the OCI images, offline and reproducibly: bin/image/oci (OCI layout) and bin/image/passage.tar (docker/podman load)
	@echo "==> image ($$(date +%T))"
	$(call image-build,$(IMAGE_BIN),bin/image)
	@echo "image index $$(cat bin/image/digest), version $(IMAGE_VERSION): bin/image/oci, bin/image/passage.tar"

.PHONY: image-reproducible
image-reproducible: image ## build the images again from nothing (an empty Go build cache; minutes) and check the digest is the same
	@echo "==> image again, empty build cache ($$(date +%T))"
	rm -rf .cache/image/gocache
	GOCACHE=$(CURDIR)/.cache/image/gocache $(MAKE) --no-print-directory image-again
	rm -rf .cache/image/gocache
	@if cmp -s bin/image/digest .cache/image/again/digest; then \
		echo "reproducible: both builds give $$(cat bin/image/digest)"; \
	else \
		echo "not reproducible: $$(cat bin/image/digest) then $$(cat .cache/image/again/digest)"; exit 1; \
	fi

.PHONY: image-again
image-again:
	$(call image-build,.cache/image/again/bin,.cache/image/again)

.PHONY: image-test
image-test: image ## build the images, then unpack and run them (deploy/image; starts a private Postgres on port 55433 unless DATABASE_URL is set)
	@# Without -race: the test unpacks gzip layers and runs the images' own binaries, and the
	@# race detector made the unpacking ~35 s of CI's time (and ~10 min on a loaded machine);
	@# test-go runs the package's other tests with it.
	@echo "==> image test ($$(date +%T))"
	@set -e; \
	url=$${DATABASE_URL:-}; \
	if [ -z "$$url" ]; then url=$$(PG_PROFILE=test $(PG) start test $(TEST_PG_PORT)); fi; \
	DATABASE_URL=$$url PASSAGE_IMAGE=$(CURDIR)/bin/image/oci $(GO) test -count=1 ./deploy/image/

.PHONY: minio
minio: ## build MinIO once into .cache/minio (cached), the real S3 server the S3 document store's tests run
	@deploy/local/minio.sh build >/dev/null

.PHONY: bench
bench: ## RegisterCase load test: cases/s, p50 and p99 against the durable dev Postgres (BENCH_CONCURRENCY, BENCH_DURATION)
	@GO=$(GO) deploy/local/bench.sh

.PHONY: bench-analytics
bench-analytics: ## Aggregate load test on synthetic persons: p50/p95/p99 and memory (BENCH_PERSONS, BENCH_REUSE, BENCH_DURATION)
	@GO=$(GO) deploy/local/bench-analytics.sh

.PHONY: generate
generate: ## regenerate the Go code for the contracts in proto/gen
	@echo "==> generate ($$(date +%T))"
	@# Start from nothing so that a deleted .proto also loses its Go.
	find proto/gen \( -name '*.pb.go' -o -name '*.pb.gw.go' -o -name '*.swagger.json' \) -delete
	cd proto && $(TOOLS) buf generate
	cd proto && $(TOOLS) buf generate --template buf.gen.openapi.yaml
	$(GO) generate ./... ./proto/...

.PHONY: generate-check verify
generate-check: generate ## fail if the committed generated code differs from what generate makes
	@if ! git diff --quiet -- proto/gen || [ -n "$$(git status --porcelain -- proto/gen)" ]; then \
		git status --short -- proto/gen; \
		echo "generated code is stale: run make generate and commit"; \
		exit 1; \
	fi
verify: generate-check ## same as generate-check

.PHONY: lint
lint: ## buf lint and format, go vet and a gofmt check
	@echo "==> lint ($$(date +%T))"
	cd proto && $(TOOLS) buf lint
	cd proto && $(TOOLS) buf format --diff --exit-code
	$(GO) vet ./... ./proto/...
	@files=$$(git ls-files --cached --others --exclude-standard -- '*.go' | xargs -r $(GOFMT) -l); \
	if [ -n "$$files" ]; then echo "not gofmt-ed (run gofmt -w):"; echo "$$files"; exit 1; fi

.PHONY: breaking
breaking: ## check the contracts for breaking changes since this branch left main
	@echo "==> breaking ($$(date +%T))"
	@set -e; \
	base=$$(git merge-base HEAD $(BREAKING_AGAINST)); \
	echo "comparing proto/ with $(BREAKING_AGAINST) at $$base"; \
	cd proto && $(TOOLS) buf breaking --against "../.git#ref=$$base,subdir=proto"

# Run by `test`: on a branch, check the contracts against where it left main; on main itself
# (as in CI, which tests a clone of main) there is nothing to compare with, so skip.
.PHONY: breaking-if-branch
breaking-if-branch:
	@if git rev-parse --verify -q refs/heads/$(BREAKING_AGAINST) >/dev/null && \
		[ "$$(git rev-parse HEAD)" != "$$(git rev-parse refs/heads/$(BREAKING_AGAINST))" ]; then \
		$(MAKE) --no-print-directory breaking; \
	else \
		echo "==> breaking: skipped (HEAD is $(BREAKING_AGAINST), or there is no $(BREAKING_AGAINST) branch)"; \
	fi

.PHONY: vuln
vuln: ## govulncheck, offline, against the pinned Go vulnerability database (VULN_STRICT=1: standard library findings fail too)
	@echo "==> vuln ($$(date +%T))"
	@GO=$(GO) deploy/local/vuln.sh

.PHONY: vendor-protos
vendor-protos: ## refresh proto/third_party from the pinned upstream versions
	GO=$(GO) proto/third_party/vendor.sh

.PHONY: tools
tools: minio ## build the pinned code generators and the tests' MinIO ahead of time
	cd proto && $(TOOLS) buf --version
	$(TOOLS) protoc-gen-go --version
	$(TOOLS) protoc-gen-go-grpc --version

.PHONY: deploy-check-compose
deploy-check-compose: deploy-check-promtool ## the compose example, alert rules and dashboards: promtool (rules, their unit tests, Prometheus's config) and their Go tests (Postgres on port 55433 unless DATABASE_URL is set)
	@echo "==> deploy-check-compose: Go tests ($$(date +%T))"
	@set -e; \
	url=$${DATABASE_URL:-}; \
	if [ -z "$$url" ]; then url=$$(PG_PROFILE=test $(PG) start test $(TEST_PG_PORT)); fi; \
	DATABASE_URL=$$url $(GO) test -count=1 ./deploy/compose/ ./deploy/prometheus/

# make test runs the deployment files' Go tests (compose, prometheus, kubernetes) in test-go
# already, with -race; of deploy-check it adds only what is not Go.
.PHONY: deploy-check-promtool
deploy-check-promtool: ## the alert rules, their unit tests and Prometheus's config, checked by promtool
	@echo "==> deploy-check-promtool ($$(date +%T))"
	@command -v promtool >/dev/null 2>&1 || { echo "promtool is missing: apt-get install -y prometheus" >&2; exit 1; }
	promtool check rules deploy/prometheus/alerts.yml
	cd deploy/prometheus && promtool test rules alerts.test.yml
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	sed 's#/etc/prometheus/rules/alerts.yml#$(CURDIR)/deploy/prometheus/alerts.yml#' deploy/compose/prometheus/prometheus.yml >"$$tmp/prometheus.yml"; \
	promtool check config --syntax-only "$$tmp/prometheus.yml"

.PHONY: pg-stop
pg-stop: ## stop the private dev and test Postgres clusters
	$(PG) stop dev
	$(PG) stop test

.PHONY: clean
clean: ## stop and delete the private Postgres clusters, remove bin/
	$(PG) destroy dev
	$(PG) destroy test
	rm -rf .passage/postgres bin

.PHONY: deploy-check
deploy-check: deploy-check-compose deploy-check-kubernetes ## every deployment file: compose, alert rules and dashboards, the Kubernetes manifests and CloudNativePG resources

# Kubernetes (deploy/kubernetes): render each kustomize stage and validate every object with
# kubeconform against the strict schemas kept in deploy/kubernetes/schemas (Kubernetes,
# CloudNativePG, Gateway API), then hold the manifests against the services' code. Offline;
# also part of `go test ./...`.
.PHONY: deploy-check-kubernetes
deploy-check-kubernetes: ## validate the Kubernetes manifests (kustomize + kubeconform, offline)
	@echo "==> deploy-check-kubernetes ($$(date +%T))"
	$(GO) test -count=1 ./deploy/kubernetes/...
