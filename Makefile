# Hookline: `make dev` runs the whole product locally, `make test` runs every test.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
export PATH := $(CURDIR)/.venv/bin:$(PATH)
export SAM_CLI_TELEMETRY := 0

.PHONY: dev test tools emulators lint unit contract portal bench build-lambdas clean

## Installs the pinned tools, each project-local: the dev tools (.venv), the emulators
## (tools/fauxqs for SQS, tools/ministack for DynamoDB) and the DynamoDB Local engine.
tools: emulators
	@scripts/venv.sh
	@scripts/dynamodb-local.sh >/dev/null

emulators:
	@scripts/fauxqs.sh >/dev/null
	@scripts/ministack.sh >/dev/null

## Runs the emulators, provisions template.yaml, serves the API on 127.0.0.1:$${PORT:-3000}; Ctrl-C stops it.
dev: emulators
	cargo build --bin hookline-local
	ALLOW_HTTP_WEBHOOKS=true exec target/debug/hookline-local dev

## Every check: format, lints, the template, unit and emulator-backed tests, the contract, the
## portal in a real browser.
test: tools lint unit contract portal

lint:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings
	cfn-lint template.yaml
	sam validate --lint --region us-east-1

unit:
	cargo test --workspace

## schemathesis against the served OpenAPI document: no 5xx, responses match their schemas.
## A pinned seed keeps CI reproducible; `make contract SCHEMATHESIS_SEED=` explores new cases.
SCHEMATHESIS_SEED ?= 20261122
contract:
	SCHEMATHESIS_SEED=$(SCHEMATHESIS_SEED) scripts/schemathesis.sh

## The customer portal end to end in headless Chromium (Playwright), against a local stack of
## its own; installs Debian's chromium when missing (required with CI=1, else skipped loudly).
## Screenshots go to $$PORTAL_SCREENSHOTS (default target/portal-e2e).
portal:
	scripts/portal-e2e.sh

## The benchmark table (not part of `make test`): init time, zip size, AWS calls, cost, end to end.
bench: tools build-lambdas
	cargo run --release --bin hookline-bench

## The Lambda zips (x86_64 here; `sam build` builds arm64 for deployment).
build-lambdas:
	@scripts/venv.sh
	cargo lambda build --release --output-format zip --bins --package hookline-api --package hookline-ingest --package hookline-deliver

clean:
	cargo clean
	rm -rf .venv tools/fauxqs/node_modules tools/ministack/.venv tools/dynamodb-local/engine portal/node_modules tests/portal/node_modules
