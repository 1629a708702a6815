# make run: the gateway on the embedded default. make test: every test. Both set everything up first.
PYTHON ?= python3
UV_VERSION := 0.13.8
UV := .uv/bin/uv
VENV := .venv
SYNCED := $(VENV)/.synced
export UV_PYTHON_DOWNLOADS := never

.PHONY: run test sync worker bench-realtime clean

run: $(SYNCED)
	$(VENV)/bin/lango serve

test: $(SYNCED)
	$(VENV)/bin/python -m pytest

sync: $(SYNCED)

$(UV):
	$(PYTHON) -m venv .uv
	.uv/bin/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

$(SYNCED): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --all-extras --python $(PYTHON)
	touch $@

clean:
	rm -rf .uv $(VENV) .pytest_cache
