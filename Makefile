# The README's commands. Python tools live in .venv, pinned in tools/requirements.txt.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
VENV_READY := $(VENV)/.installed
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export MOTO_SERVER := $(CURDIR)/$(VENV)/bin/moto_server
BOOTSTRAP := target/lambda/live-callback-relay/bootstrap

.PHONY: demo test venv check unit tools-test e2e lint-template scan-template release-build load fuzz bench \
	local-stack verify tencent-connect dashboard

## demo: the relay on one machine, with moto's SNS/SQS and four subscribers
demo: $(VENV_READY)
	cargo build --quiet --bin live-callback-relay --example demo
	RELAY_BOOTSTRAP=target/debug/live-callback-relay target/debug/examples/demo

## test: everything CI checks
test: check unit tools-test e2e lint-template scan-template release-build

venv: $(VENV_READY)
$(VENV_READY): tools/requirements.txt tools/constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r tools/requirements.txt -c tools/constraints.txt
	touch $@

check:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings

unit:
	cargo test --workspace

## tools-test: the go-live commands' own tests (plans, idempotence, masking)
tools-test: $(VENV_READY)
	cd tools && ../$(VENV)/bin/python -m unittest discover -s . -p 'test_*.py'

## dashboard: writes the CloudWatch dashboard tests/dashboard.rs generates into template.yaml
dashboard:
	UPDATE_DASHBOARD=1 cargo test --quiet --test dashboard the_templates_dashboard_is_the_generated_one

## e2e: every test that needs moto (marked #[ignore] for a plain `cargo test`)
e2e: $(VENV_READY)
	cargo test --tests -- --ignored --nocapture

lint-template: $(VENV_READY)
	cfn-lint --version
	cfn-lint --append-rules cfn_lint_serverless.rules -- template.yaml

## scan-template: checkov's security checks, offline, on every resource of the template
scan-template: $(VENV_READY)
	$(VENV)/bin/python tools/scan_template.py

## bench: criterion per-operation benchmarks, then cold starts and warm callbacks of the
## release bootstrap under a 128 MB function's CPU share beside a hello-world (needs root
## for the cgroups);
## BASELINE=<commit> (an earlier release) and BEFORE=<commit> (this release before a
## change) add those commits' bootstraps to the same run (BENCHMARKS.md)
BASELINE ?=
BEFORE ?=
# $(call bootstrap-at,<commit>,<name>): that commit's release bootstrap, built in target/<name>
define bootstrap-at
	git worktree remove --force target/$(2)-src 2>/dev/null || true
	git worktree add --detach target/$(2)-src $(1)
	cd target/$(2)-src && CARGO_TARGET_DIR=$(CURDIR)/target/$(2) cargo lambda build --release --x86-64 -p live-callback-relay
	git worktree remove --force target/$(2)-src
endef
BENCH_BOOTSTRAPS = RELAY_BOOTSTRAP=target/lambda/live-callback-relay/bootstrap \
	HELLO_BOOTSTRAP=target/lambda/bench-hello-world/bootstrap \
	$(if $(BASELINE),BASELINE_BOOTSTRAP=target/baseline/lambda/live-callback-relay/bootstrap) \
	$(if $(BEFORE),BEFORE_BOOTSTRAP=target/before/lambda/live-callback-relay/bootstrap)
bench: $(VENV_READY)
	cargo bench --bench relay
	cargo lambda build --release --x86-64 -p live-callback-relay -p bench-hello-world
	cargo build --profile bench --example coldstart --example warm
	$(if $(BASELINE),$(call bootstrap-at,$(BASELINE),baseline))
	$(if $(BEFORE),$(call bootstrap-at,$(BEFORE),before))
	$(BENCH_BOOTSTRAPS) target/release/examples/coldstart
	$(BENCH_BOOTSTRAPS) target/release/examples/warm
	cargo lambda build --release --x86-64 --output-format zip -p live-callback-relay -p bench-hello-world
	@for f in live-callback-relay bench-hello-world; do \
	  stat -c "$$f: bootstrap.zip %s bytes" target/lambda/$$f/bootstrap.zip; done

## load: 10,000 signed callbacks, 64 in flight, through the handler (optimized build)
load:
	cargo run --profile bench --example load

## fuzz: the request-path fuzz target for FUZZ_SECONDS (default 600); needs nightly and `cargo install cargo-fuzz`
FUZZ_SECONDS ?= 600
fuzz:
	$(PYTHON) fuzz/make_seed_corpus.py
	cargo +nightly fuzz run request_path -- -max_total_time=$(FUZZ_SECONDS)

release-build: $(VENV_READY)
	cargo lambda build --release --x86-64
	@stat -c 'bootstrap (x86_64, release): %s bytes' $(BOOTSTRAP)

## Going live (README, "Go live in three commands"). STACK and REGION name the deployed
## stack; verify and tencent-connect read its outputs, and the callback key from
## CALLBACK_KEY or the stack's CallbackKeysSecretId.
STACK ?= live-callback-relay
REGION ?= $(or $(AWS_REGION),$(AWS_DEFAULT_REGION))
DOMAIN ?=
APP ?= live
DRY_RUN ?=
OFFLINE ?=

## verify: signed test callbacks through the deployed stack, observed on temporary queues
verify: $(VENV_READY)
	$(VENV)/bin/python tools/verify.py --stack $(STACK) $(if $(REGION),--region $(REGION))

## tencent-connect: Tencent's callback template and binding pointed at the stack
## (TENCENTCLOUD_SECRET_ID/KEY; DOMAIN=<push domain>; DRY_RUN=1 prints the calls;
## DRY_RUN=1 OFFLINE=1 plans for an empty account without calling Tencent)
tencent-connect: $(VENV_READY)
	@test -n "$(DOMAIN)" || { echo "set DOMAIN=<your push domain>, e.g. make tencent-connect DOMAIN=push.example.com" >&2; exit 2; }
	$(VENV)/bin/python tools/tencent_connect.py --stack $(STACK) $(if $(REGION),--region $(REGION)) \
	  --domain $(DOMAIN) --app $(APP) $(if $(DRY_RUN),--dry-run) $(if $(OFFLINE),--offline)

## local-stack: a deployed stack played on this machine (moto + the real bootstrap), for
## trying verify and tencent-connect DRY_RUN=1 without AWS; prints what to export
local-stack: $(VENV_READY)
	cargo build --quiet --bin live-callback-relay --example local_stack
	RELAY_BOOTSTRAP=target/debug/live-callback-relay target/debug/examples/local_stack
