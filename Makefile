# Personio ⇄ TimeTrack sync — developer entry points. `make test` and `make demo` work on a fresh clone.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
CARGO ?= cargo

.PHONY: help setup fmt fmt-check clippy lint lint-infra unit test test-only simulators clean

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

lint: setup fmt-check clippy lint-infra ## formatting, clippy, template lint

unit: ## pure unit tests only (no emulator needed)
	$(CARGO) nextest run --workspace --lib

test: setup fmt-check clippy lint-infra ## the whole suite: lint, then every test with moto_server running
	scripts/with-moto.sh $(CARGO) nextest run --workspace --no-fail-fast

test-only: setup ## the whole suite without the lint steps
	scripts/with-moto.sh $(CARGO) nextest run --workspace --no-fail-fast

simulators: ## serve both simulators with the seed company (Ctrl-C to stop)
	$(CARGO) run -p simulators --bin simulators

clean:
	$(CARGO) clean
	rm -rf $(VENV) .run
