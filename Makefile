# make run: the gateway on the embedded default. make test: every test. Both set everything up first.
PYTHON ?= python3
UV_VERSION := 0.13.8
UV := .uv/bin/uv
VENV := .venv
SYNCED := $(VENV)/.synced
export UV_PYTHON_DOWNLOADS := never

.PHONY: run test sync worker bench-realtime load clean check-alerts check-compose web-vendor

run: $(SYNCED)
	$(VENV)/bin/lango serve

test: $(SYNCED)
	$(VENV)/bin/python -m pytest

# Lango beside the Node.js Socket.IO reference: 1,000 / 5,000 / 10,000 sockets (npm installs the reference).
bench-realtime: $(SYNCED)
	$(VENV)/bin/python -m bench.realtime

# The guest journey under Locust against a running `make run` (same LANGO_* environment); USERS and DURATION bound it.
USERS ?= 20
DURATION ?= 60s
load: $(SYNCED)
	$(VENV)/bin/python -m bench.load --users $(USERS) --duration $(DURATION)

sync: $(SYNCED)

$(UV):
	$(PYTHON) -m venv .uv
	.uv/bin/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

# Compiled once here, so every gateway, worker and test process imports in ~3 s instead of ~9.5 s on 2 cores
# when PYTHONDONTWRITEBYTECODE keeps Python from caching what it compiles.
$(SYNCED): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --all-extras --compile-bytecode --python $(PYTHON)
	touch $@

# promtool comes with the Debian/Ubuntu package `prometheus`; tests/operations/test_alerts.py runs it too when present.
check-alerts:
	promtool check rules deploy/prometheus/alerts.yml

# Needs the docker compose plugin (no engine required).
check-compose:
	LANGO_AUTH__SIGNING_KEYS='{}' LANGO_AUTH__TOTP_ENCRYPTION_KEY=x LANGO_TICKETS__KEY_ENCRYPTION_KEY=x \
	LANGO_STORAGE__LOCAL__SIGNING_SECRET=x $(shell docker compose version >/dev/null 2>&1 && echo docker compose || echo docker-compose) -f docker-compose.yml config --quiet

# The scanner's third-party browser code, copied from the npm packages pinned in web/package-lock.json; then record
# each file's new sha256 in web/vendored.json (tests/browser/test_vendored_assets.py checks them). Needs npm.
web-vendor:
	cd web && npm ci --ignore-scripts --no-audit --no-fund
	cp web/node_modules/jsqr/dist/jsQR.js web/scan/vendor/jsQR.js
	cp web/node_modules/socket.io-client/dist/socket.io.esm.min.js web/scan/vendor/socket.io.esm.min.js
	sha256sum web/scan/vendor/*

clean:
	rm -rf .uv $(VENV) .pytest_cache
