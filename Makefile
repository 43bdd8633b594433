# The two front-door commands: `make dev` (local API, no Docker, no AWS) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TOOLS := .tools
STAMP := $(VENV)/.installed
TOOLS_STAMP := $(TOOLS)/.installed
SAM := $(TOOLS)/bin/sam
OPENAPI_DIFF := tools/openapi-diff
OPENAPI_DIFF_STAMP := $(OPENAPI_DIFF)/node_modules/.installed
PORT ?= 3001
export SAM_CLI_TELEMETRY := 0

.DEFAULT_GOAL := help

help:
	@echo "make dev     run the API locally on 127.0.0.1:$(PORT) (embedded PostgreSQL, local EventBridge)"
	@echo "make token   print a dev JWT: make token USER_ID=alice"
	@echo "make psql    psql on the dev database"
	@echo "make reset-rate-limit USER_ID=alice   forget a user's interview rate limit (make dev running)"
	@echo "make test    lint, type-check, validate the template and run every test"
	@echo "make openapi rewrite openapi.json from the code (the tests fail while they differ)"
	@echo "make openapi-breaking   api-smart-diff openapi.json against its previous committed version"
	@echo "make build   sam build (no Docker needed)"
	@echo "make bench   benchmarks (bench/)"

# The dev venv uses exactly the layer's pinned versions (shared/requirements.txt).
$(STAMP): pyproject.toml shared/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r shared/requirements.txt -e '.[dev]'
	touch $@

# SAM CLI pins its own pydantic/boto3, so it lives in a separate venv.
$(TOOLS_STAMP):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --upgrade pip
	$(TOOLS)/bin/python -m pip install --quiet 'aws-sam-cli>=1.120' 'cfn-lint>=1.20'
	touch $@

# api-smart-diff (npm), pinned by its lock file, classifies OpenAPI changes as breaking or not.
$(OPENAPI_DIFF_STAMP): $(OPENAPI_DIFF)/package.json $(OPENAPI_DIFF)/package-lock.json
	npm ci --prefix $(OPENAPI_DIFF) --no-audit --no-fund --loglevel=error
	touch $@

install: $(STAMP)
tools: $(TOOLS_STAMP) $(OPENAPI_DIFF_STAMP)
openapi-tools: $(OPENAPI_DIFF_STAMP)

dev: $(STAMP)
	$(BIN)/python -m jobprep_local serve --port $(PORT)

token: $(STAMP)
	@$(BIN)/python -m jobprep_local token $(or $(USER_ID),alice)

psql: $(STAMP)
	$(BIN)/python -m jobprep_local psql

reset-rate-limit:
	@curl -fsS -X DELETE http://127.0.0.1:$(PORT)/_local/rate-limits/$(or $(USER_ID),alice) && echo

openapi: $(STAMP)
	$(BIN)/python -m jobprep_local openapi --output openapi.json

openapi-breaking: $(STAMP) $(OPENAPI_DIFF_STAMP)
	$(BIN)/python -m jobprep_local openapi-breaking

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy shared local functions tests $(if $(wildcard bench/*.py),bench)

validate: $(TOOLS_STAMP)
	AWS_DEFAULT_REGION=us-east-1 $(SAM) validate --lint
	$(TOOLS)/bin/cfn-lint template.yaml

# The docs-page test drives Debian's headless Chromium; install it when we can (root, apt).
chromium:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
		echo "chromium not installed: the docs-page browser test will be skipped"

test: $(STAMP) $(TOOLS_STAMP) $(OPENAPI_DIFF_STAMP) chromium lint validate openapi-breaking
	SAM_BIN=$(abspath $(SAM)) $(BIN)/pytest

build: $(TOOLS_STAMP)
	$(SAM) build

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) $(TOOLS) $(OPENAPI_DIFF)/node_modules .aws-sam .pytest_cache .mypy_cache .ruff_cache

.PHONY: help install tools openapi-tools chromium dev token psql reset-rate-limit openapi openapi-breaking lint validate \
	test build bench clean
