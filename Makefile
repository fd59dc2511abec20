# Hocvuso: `make run` serves a living demo; `make test` runs the whole suite on SQLite and
# PostgreSQL. Both install what they need (system packages too, via apt when run as root).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
APT_TEST_PACKAGES := postgresql redis-server chromium fonts-noto-core poppler-utils zbar-tools
APT_BENCH_PACKAGES := postgresql wrk
APT_CLUSTER_PACKAGES := postgresql redis-server
APT_RUN_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0

# `make run` is the embedded development default: the built-in identity provider, dev mode.
RUN_ENV := LMS_DEV_IDP=$${LMS_DEV_IDP:-1} LMS_ENV=$${LMS_ENV:-development}

.PHONY: run run-cluster load test bench lint install install-dev system-packages system-packages-test \
        translations clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed translations
install-dev: $(VENV)/.installed-dev translations

# Only what is missing is installed; as a non-root user we say what to install instead.
apt_install_now = (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(1) >/dev/null)

define apt_install
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing system packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else echo "missing system packages:$$missing (install them with apt as root)"; exit 1; fi; \
	fi
endef

system-packages:
	$(call apt_install,$(APT_RUN_PACKAGES))

system-packages-test: system-packages
	$(call apt_install,$(APT_TEST_PACKAGES))
	@# The OpenID Connect interoperability tests run panva's oidc-provider on Node.
	@command -v npm >/dev/null 2>&1 || $(call apt_install_now,nodejs npm)
	@# The browser tests inject axe-core (tests/e2e/test_accessibility.py) from this folder.
	@test -f .cache/npm/node_modules/axe-core/axe.min.js || npm install --no-save --no-audit \
	  --no-fund --prefix .cache/npm axe-core@4 >/dev/null

translations: | $(BIN)/python
	@$(BIN)/python -m lms.i18n_compile

instance/hocvuso.toml:
	@mkdir -p instance
	@$(BIN)/python -c "import secrets; print('SECRET_KEY = \"' + secrets.token_urlsafe(48) + '\"')" > $@
	@chmod 600 $@
	@echo "wrote a new secret key to $@"

run: system-packages install instance/hocvuso.toml
	$(RUN_ENV) $(FLASK) db upgrade
	$(RUN_ENV) $(FLASK) units load-official
	@for package in courses/content/*/; do $(RUN_ENV) $(FLASK) courses import $$package || exit 1; done
	$(RUN_ENV) $(FLASK) demo load
	@echo ""
	@echo "  Hocvuso is at http://127.0.0.1:5000/  (sign in: http://127.0.0.1:5000/auth/login)"
	@echo "  API: http://127.0.0.1:5000/api/v1/openapi.json   health: /healthz"
	@echo ""
	$(RUN_ENV) $(FLASK) run --host 127.0.0.1 --port 5000

test: system-packages-test install-dev
	CI=$${CI:-} $(BIN)/python -m pytest

lint: install-dev
	$(BIN)/ruff check .

bench: system-packages install-dev
	$(call apt_install,$(APT_BENCH_PACKAGES))
	$(BIN)/python -m bench

# Two gunicorn nodes sharing one PostgreSQL, one Redis and one Celery worker (bench/cluster.py).
run-cluster: system-packages install-dev
	$(call apt_install,$(APT_CLUSTER_PACKAGES))
	$(BIN)/python -m bench.cluster

# Locust learners against that cluster, then the database check (bench/load.py), e.g.
# make load LOAD_ARGS="--users 300 --run-time 600 --fault postgres"
load: system-packages install-dev
	$(call apt_install,$(APT_CLUSTER_PACKAGES) wrk)
	$(BIN)/python -m bench.load $(LOAD_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
