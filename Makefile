# The two front-door commands: `make dev` (local API, no Docker, no AWS) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TOOLS := .tools
STAMP := $(VENV)/.installed
TOOLS_STAMP := $(TOOLS)/.installed
SAM := $(TOOLS)/bin/sam
# checkov pins an older boto3 than the SAM CLI, so it gets a venv of its own inside .tools.
CHECKOV := $(TOOLS)/checkov/bin/checkov
ENV ?= dev
OPENAPI_DIFF := tools/openapi-diff
OPENAPI_DIFF_STAMP := $(OPENAPI_DIFF)/node_modules/.installed
PORT ?= 3001
export SAM_CLI_TELEMETRY := 0

.DEFAULT_GOAL := help

help:
	@echo "make dev     run the API locally on 127.0.0.1:$(PORT) (embedded PostgreSQL, local EventBridge)"
	@echo "             DATABASE_MODE=aurora|external: judge each AWS call as that mode's template allows it"
	@echo "make token   print a dev JWT: make token USER_ID=alice"
	@echo "make webhook send a signed Clerk user.deleted to the dev server: make webhook USER_ID=alice [TYPE=user.created|user.updated EMAIL=...]"
	@echo "make examples-check  type-check and test examples/ (npm ci, tsc, node --test)"
	@echo "make psql    psql on the dev database: make psql ARGS=\"-c 'TABLE job_infos'\""
	@echo "make reset-rate-limit USER_ID=alice   forget a user's interview rate limit (make dev running)"
	@echo "make test    lint, type-check, validate the template and run every test"
	@echo "make unit / make integration / make e2e   one part of the tests (tests/unit, tests/integration, tests/e2e)"
	@echo "make openapi rewrite openapi.json from the code, and the example client's types from it (the tests fail while they differ)"
	@echo "make template  rewrite template.yaml's generated per-function blocks (log group, alarms, dashboard) from its functions"
	@echo "make docs    rewrite the alarm table and idle-cost figures in the docs from template.yaml (drift-tested too)"
	@echo "make sql     rewrite sql/<name>.sql, every prebuilt statement as PostgreSQL gets it (drift-tested too)"
	@echo "make openapi-breaking   api-smart-diff openapi.json against its previous committed version"
	@echo "make build   sam build (no Docker needed)"
	@echo "make deploy  sam build + sam deploy --config-env dev (make deploy ENV=prod); docs/deploy.md"
	@echo "make bench   benchmarks (bench/)"
	@echo "make fuzz    long fuzzing runs (make test runs bounded ones)"

# uv installs every environment from a lock, fast and with progress: the one on PATH, or a pinned
# copy bootstrapped from the package index into .tools/uv.
UV_VERSION := 0.13.9
UV ?= $(shell command -v uv 2>/dev/null || echo $(TOOLS)/uv/bin/uv)
# Packages the Lambda runtime itself provides (boto3 and its closure): never in the layer.
RUNTIME_PROVIDED := boto3 botocore s3transfer jmespath python-dateutil six urllib3

$(TOOLS)/uv/bin/uv:
	$(PYTHON) -m venv $(TOOLS)/uv
	$(TOOLS)/uv/bin/python -m pip install --quiet --disable-pip-version-check 'uv==$(UV_VERSION)'

# The dev venv: the layer's packages and the dev tools, exactly as uv.lock pins them, with their
# bytecode (hash-based, checked against the source: valid whatever the files' times). Python never
# writes it under PYTHONDONTWRITEBYTECODE=1, and every process of `make dev` and of the tests would
# compile thousands of modules from source again (docs/dev-server.md, "Cold starts").
$(STAMP): pyproject.toml uv.lock | $(UV)
	PYC_INVALIDATION_MODE=CHECKED_HASH $(UV) sync --frozen --compile-bytecode --python $(PYTHON)
	touch $@

# SAM CLI, cfn-lint and checkov from hash-pinned requirements (tools/*.txt), each in its own venv.
$(TOOLS_STAMP): tools/sam.txt tools/checkov.txt | $(UV)
	$(UV) venv --quiet --allow-existing --python $(PYTHON) $(TOOLS)
	$(UV) pip install --python $(TOOLS)/bin/python --require-hashes -r tools/sam.txt
	$(UV) venv --quiet --allow-existing --python $(PYTHON) $(TOOLS)/checkov
	$(UV) pip install --python $(TOOLS)/checkov/bin/python --require-hashes -r tools/checkov.txt
	touch $@

# After changing dependencies in pyproject.toml or tools/*.in: relock everything, re-export the
# layer's requirements with hashes. tests/unit/test_locks.py fails while any of them is stale.
lock: | $(UV)
	$(UV) lock
	$(UV) export --frozen --no-dev --no-emit-project --format requirements-txt --quiet \
		$(addprefix --no-emit-package ,$(RUNTIME_PROVIDED)) --output-file shared/requirements.txt
	$(UV) pip compile --quiet --generate-hashes --python-version 3.11 tools/sam.in -o tools/sam.txt
	$(UV) pip compile --quiet --generate-hashes --python-version 3.11 tools/checkov.in -o tools/checkov.txt

# api-smart-diff (npm), pinned by its lock file, classifies OpenAPI changes as breaking or not.
$(OPENAPI_DIFF_STAMP): $(OPENAPI_DIFF)/package.json $(OPENAPI_DIFF)/package-lock.json
	npm ci --prefix $(OPENAPI_DIFF) --no-audit --no-fund --loglevel=error
	touch $@

install: $(STAMP)
tools: $(TOOLS_STAMP) $(OPENAPI_DIFF_STAMP)
openapi-tools: $(OPENAPI_DIFF_STAMP)

# DATABASE_MODE=aurora|external: every AWS call a function makes is judged as that mode's template
# would have it (its role's IAM; aurora: only through the VPC endpoints), refusals printed as [aws].
dev: $(STAMP)
	$(BIN)/python -m jobprep_local serve --port $(PORT) $(if $(DATABASE_MODE),--database-mode $(DATABASE_MODE))

token: $(STAMP)
	@$(BIN)/python -m jobprep_local token $(or $(USER_ID),alice)

webhook: $(STAMP)
	@$(BIN)/python -m jobprep_local webhook $(or $(USER_ID),alice) --url http://127.0.0.1:$(PORT) \
		$(if $(TYPE),--type $(TYPE)) $(if $(EMAIL),--email $(EMAIL))

# make psql ARGS="-c 'TABLE job_infos'": ARGS go to psql as the shell splits them.
psql: $(STAMP)
	$(BIN)/python -m jobprep_local psql $(ARGS)

reset-rate-limit:
	@curl -fsS -X DELETE http://127.0.0.1:$(PORT)/_local/rate-limits/$(or $(USER_ID),alice) && echo

# The web app example's client types are generated from openapi.json too (tsc then shows what breaks).
openapi: $(STAMP) examples/nextjs-api-client/node_modules/.package-lock.json
	$(BIN)/python -m jobprep_local openapi --output openapi.json
	cd examples/nextjs-api-client && npm run -s generate

sql: $(STAMP)
	$(BIN)/python -m jobprep_local.sql

# template.yaml's per-function blocks (log groups, alarms, throttles alarms, dashboard) from its functions.
template: $(STAMP)
	$(BIN)/python -m jobprep_local.blocks

# The alarm table (docs/operate.md) and the idle cost (README.md, docs/deploy.md), from template.yaml.
docs: $(STAMP)
	$(BIN)/python -m jobprep_local.docs

openapi-breaking: $(STAMP) $(OPENAPI_DIFF_STAMP)
	$(BIN)/python -m jobprep_local openapi-breaking

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy shared local functions tests $(if $(wildcard bench/*.py),bench)
	$(BIN)/lint-imports

validate: $(TOOLS_STAMP)
	AWS_DEFAULT_REGION=us-east-1 $(SAM) validate --lint
	$(TOOLS)/bin/cfn-lint template.yaml
	$(CHECKOV) --file template.yaml --framework cloudformation --skip-download --quiet --compact

# The docs-page test drives Debian's headless Chromium; install it when we can (root, apt).
chromium:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
		echo "chromium not installed: the docs-page browser test will be skipped"

# examples/: the web app's side, type-checked against Next.js's (and Clerk's) own types and tested
# with Node's test runner, so no example can rot. npm ci only when an example's lock file changed.
# nextjs-revalidate: the revalidate route. nextjs-api-client: the server actions on a client typed
# from openapi.json (its build fails while lib/api/schema.d.ts differs from what openapi.json gives).
EXAMPLES := examples/nextjs-revalidate examples/nextjs-api-client
EXAMPLE_DEPS := $(addsuffix /node_modules/.package-lock.json,$(EXAMPLES))

examples/%/node_modules/.package-lock.json: examples/%/package.json examples/%/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "npm not found: install Node.js >= 20.9 with npm to check examples/$*" >&2; exit 1; }
	cd examples/$* && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Node 20 cannot run TypeScript: each example's `npm run build` compiles its Next-free parts to build/.
examples-build: $(EXAMPLE_DEPS)
	@for example in $(EXAMPLES); do (cd $$example && npm run -s build) || exit 1; done

# tsc --noEmit over everything (app/ included), then node --test build/test/ (e2e/ runs in pytest).
examples-check: examples-build
	@for example in $(EXAMPLES); do (cd $$example && npm run -s check) || exit 1; done

PYTEST := SAM_BIN=$(abspath $(SAM)) UV_BIN=$(abspath $(UV)) $(BIN)/pytest

test: $(STAMP) $(TOOLS_STAMP) $(OPENAPI_DIFF_STAMP) chromium lint validate openapi-breaking examples-check
	$(PYTEST)

# One part of the suite, with what it needs installed (make test runs them all, after the checks).
unit: $(STAMP) $(OPENAPI_DIFF_STAMP) | $(UV)
	$(PYTEST) tests/unit

integration: $(STAMP) $(TOOLS_STAMP)
	$(PYTEST) tests/integration

e2e: $(STAMP) $(TOOLS_STAMP) chromium
	$(PYTEST) tests/e2e

# shared/Makefile installs the layer's packages with uv (resolved for python3.13 on arm64).
build: $(TOOLS_STAMP) | $(UV)
	UV_BIN=$(abspath $(UV)) $(SAM) build

# Needs AWS credentials (a profile, or OIDC in CI) and samconfig.toml's [$(ENV)] section.
deploy: build
	$(SAM) deploy --config-env $(ENV)

# Longer fuzzing than the bounded runs in `make test`: Hypothesis over every route, Schemathesis
# (all checks and phases) against the dev server.
fuzz: $(STAMP)
	JOBPREP_FUZZ_EXAMPLES=600 JOBPREP_SCHEMATHESIS_EXAMPLES=40 $(BIN)/pytest -p no:cacheprovider -rP --timeout 3600 \
		tests/integration/test_fuzz.py tests/e2e/test_fuzz_api.py

bench: $(STAMP)
	$(BIN)/python -m bench
	$(BIN)/python -m bench.duplicates

clean:
	rm -rf $(VENV) $(TOOLS) $(OPENAPI_DIFF)/node_modules .aws-sam .pytest_cache .mypy_cache .ruff_cache \
		$(addsuffix /node_modules,$(EXAMPLES)) $(addsuffix /build,$(EXAMPLES))

.PHONY: help install tools openapi-tools chromium dev token webhook psql reset-rate-limit openapi sql docs template openapi-breaking lock lint validate \
	examples-build examples-check test unit integration e2e build deploy fuzz bench clean
