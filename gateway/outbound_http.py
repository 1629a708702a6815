"""The shared outbound HTTP client every vendor adapter uses."""

import httpx

from gateway.settings import OutboundHttpSettings


def create_http_client(settings: OutboundHttpSettings) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=httpx.Timeout(settings.timeout_s, connect=settings.connect_timeout_s),
        limits=httpx.Limits(
            max_connections=settings.max_connections,
            max_keepalive_connections=settings.max_keepalive_connections,
        ),
        headers={"User-Agent": "lango-gateway"},
        follow_redirects=False,
    )
