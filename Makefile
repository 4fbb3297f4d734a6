# Personio ⇄ TimeTrack sync — developer entry points. `make test` and `make demo` work on a fresh clone.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
CARGO ?= cargo

.PHONY: help setup fmt fmt-check clippy lint lint-infra lint-checkov fuzz-api unit test test-only test-long simulators clean build deploy demo console sam lint-sam bench

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

setup: ## project-local virtualenv with pinned moto[server], cfn-lint, cargo-lambda, ziglang (idempotent)
	@scripts/setup.sh

fmt: ## format the code
	$(CARGO) fmt --all

fmt-check:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

lint-infra: setup ## cfn-lint the SAM template
	$(VENV)/bin/cfn-lint infra/template.yaml

# checkov lives in its own virtualenv (scripts/requirements-checkov.txt says why); skip list with reasons in
# infra/checkov.yaml.
CHECKOV_VENV := $(VENV)/checkov
lint-checkov: setup ## checkov security scan of the SAM template (skip list: infra/checkov.yaml)
	@want=$$(sha256sum scripts/requirements-checkov.txt | cut -d' ' -f1); \
	[ -x $(CHECKOV_VENV)/bin/checkov ] && [ "$$(cat $(CHECKOV_VENV)/.stamp 2>/dev/null)" = "$$want" ] || { \
	  echo "lint-checkov: installing checkov into $(CHECKOV_VENV)"; \
	  python3 -m venv $(CHECKOV_VENV) && \
	  $(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r scripts/requirements-checkov.txt && \
	  echo "$$want" > $(CHECKOV_VENV)/.stamp; }
	$(CHECKOV_VENV)/bin/checkov --config-file infra/checkov.yaml -f infra/template.yaml

lint: setup fmt-check clippy lint-infra lint-checkov ## formatting, clippy, template lint and security scan

# schemathesis lives in its own virtualenv too (scripts/requirements-schemathesis.txt says why).
SCHEMATHESIS_VENV := $(VENV)/schemathesis
FUZZ_MAX_TIME ?= 60
fuzz-api: setup ## schemathesis against `api --listen` (moto, simulators), FUZZ_MAX_TIME s (60)
	@want=$$(sha256sum scripts/requirements-schemathesis.txt | cut -d' ' -f1); \
	[ -x $(SCHEMATHESIS_VENV)/bin/schemathesis ] && [ "$$(cat $(SCHEMATHESIS_VENV)/.stamp 2>/dev/null)" = "$$want" ] || { \
	  echo "fuzz-api: installing schemathesis into $(SCHEMATHESIS_VENV)"; \
	  python3 -m venv $(SCHEMATHESIS_VENV) && \
	  $(SCHEMATHESIS_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r scripts/requirements-schemathesis.txt && \
	  echo "$$want" > $(SCHEMATHESIS_VENV)/.stamp; }
	FUZZ_MAX_TIME=$(FUZZ_MAX_TIME) scripts/with-moto.sh scripts/fuzz-api.sh

unit: ## pure unit tests only (no emulator needed)
	$(CARGO) nextest run --workspace --lib

# The crash tests run the real function binaries and fuzz-api runs `api --listen`: build every binary
# once, before the suite, so that no test waits on a build.
test: setup fmt-check clippy lint-infra lint-checkov ## the whole suite: lint, every test with moto_server running, fuzz-api
	$(CARGO) build --workspace --bins
	scripts/with-moto.sh $(CARGO) nextest run --workspace --no-fail-fast
	@$(MAKE) --no-print-directory fuzz-api

test-only: setup ## the whole suite without the lint steps
	$(CARGO) build --workspace --bins
	scripts/with-moto.sh $(CARGO) nextest run --workspace --no-fail-fast

test-long: setup ## the whole suite plus the exhaustive sweeps (tests marked #[ignore = "long: ..."])
	$(CARGO) build --workspace --bins
	scripts/with-moto.sh $(CARGO) nextest run --workspace --no-fail-fast --run-ignored all

simulators: ## serve both simulators with the seed company (Ctrl-C to stop)
	$(CARGO) run -p simulators --bin simulators

clean:
	$(CARGO) clean
	rm -rf $(VENV) .run

# ---------------------------------------------------------------- build, deploy, demo
# The four Lambda functions (binary names = function folder names = target/lambda/<name>/).
FUNCTIONS := employees time-entries absences api
# SAM CLI lives in its own virtualenv inside .venv, so that its dependencies (boto3, cfn-lint, ...) never
# move the pinned tools of `make setup`.
SAM_VERSION := 1.170.0
SAM_VENV := $(VENV)/sam
SAM := SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam
SAM_ENV ?= default
LAMBDA_PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

build: setup ## release arm64 bootstraps of the functions: target/lambda/<name>/bootstrap (cargo lambda + zig)
	@missing=""; bins=""; for f in $(FUNCTIONS); do \
	  if [ -f functions/$$f/Cargo.toml ]; then bins="$$bins --bin $$f"; else missing="$$missing $$f"; fi; done; \
	[ -z "$$missing" ] || echo "build: not in the workspace yet:$$missing (make deploy needs all four)"; \
	set -x; PATH="$(LAMBDA_PATH)" $(CARGO) lambda build --release --arm64 $$bins
	@ls -l $(foreach f,$(FUNCTIONS),target/lambda/$(f)/bootstrap) 2>/dev/null || true

sam: setup ## install the pinned SAM CLI (aws-sam-cli) on demand
	@[ "$$($(SAM) --version 2>/dev/null)" = "SAM CLI, version $(SAM_VERSION)" ] || { \
	  echo "sam: installing aws-sam-cli==$(SAM_VERSION) into $(SAM_VENV)"; \
	  python3 -m venv $(SAM_VENV) && \
	  $(SAM_VENV)/bin/python -m pip install --quiet --disable-pip-version-check aws-sam-cli==$(SAM_VERSION); }

deploy: build sam ## build, then sam deploy with infra/samconfig.toml (needs AWS credentials; SAM_ENV=default)
	@for f in $(FUNCTIONS); do [ -f target/lambda/$$f/bootstrap ] || { echo "deploy: target/lambda/$$f/bootstrap is missing" >&2; exit 1; }; done
	$(SAM) deploy --template-file infra/template.yaml --config-file samconfig.toml --config-env $(SAM_ENV) $(SAM_DEPLOY_ARGS)

lint-sam: sam ## sam validate --lint on the template (offline)
	$(SAM) validate --lint --template-file infra/template.yaml --config-file samconfig.toml --config-env $(SAM_ENV)

demo: ## the one-command demo: real function binaries under cargo lambda watch, moto and the simulators
	scripts/demo.sh

console: ## the demo, then the web console on 127.0.0.1 against it (Cognito on moto; login printed; Ctrl-C ends)
	CONSOLE=1 scripts/demo.sh

bench: setup ## release-build benchmark: cold start, planner, fingerprints, each workflow at 100/1,000 people (5,000: BENCH_ARGS="--only scale-5000"; docs/performance.md, bench/*.json)
	scripts/with-moto.sh scripts/bench.sh $(BENCH_ARGS)
