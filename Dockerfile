# Production image: the gateway and worker only; MongoDB and Redis are external (MONGODB_URL, REDIS_URL).
FROM python:3.11-slim AS build
ENV UV_PYTHON_DOWNLOADS=never UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy
RUN pip install --no-cache-dir uv==0.13.8
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY gateway ./gateway
COPY handlers ./handlers
COPY documents ./documents
COPY providers ./providers
RUN uv sync --frozen --no-dev --no-editable

FROM python:3.11-slim AS runtime
RUN useradd --create-home --uid 10001 lango \
    && mkdir -p /app/var/files && chown lango:lango /app/var/files
WORKDIR /app
COPY --from=build /app/.venv /app/.venv
COPY config.toml ./
COPY web/scan ./web/scan
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    LANGO_ENVIRONMENT=production \
    LANGO_SANDBOX=false \
    LANGO_SERVER__HOST=0.0.0.0
USER lango
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2).status != 200)"]
CMD ["lango", "serve"]
