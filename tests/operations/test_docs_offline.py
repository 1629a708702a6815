"""`/docs` works offline: the page and every file it loads come from the gateway, each checked by its digest."""

import base64
import hashlib
import re

from aiohttp.test_utils import TestClient

from tests.html_pages import PageReader


def _directives(policy: str) -> dict[str, list[str]]:
    return {name: values for name, *values in (part.split() for part in policy.split(";") if part.strip())}


async def test_the_docs_page_and_everything_it_loads_are_served_by_the_gateway(client: TestClient) -> None:
    page = await client.get("/docs")
    assert page.status == 200 and page.content_type == "text/html"
    html = await page.text()
    assert not re.search(r"https?://", html), "no URL of another origin is left in the page"
    reader = PageReader(html)
    assert reader.inline_scripts == 0
    assert len(reader.assets) == 3
    policy = _directives(page.headers["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"] and policy["default-src"] == ["'none'"]
    assert all(not value.startswith("http") for values in policy.values() for value in values)

    integrity = dict(re.findall(r'(?:src|href)="([^"]+)" integrity="(sha384-[^"]+)"', html))
    for url in reader.assets:
        assert url.startswith("/docs/assets/")
        asset = await client.get(url)
        assert asset.status == 200, url
        body = await asset.read()
        assert integrity[url] == "sha384-" + base64.b64encode(hashlib.sha384(body).digest()).decode()
        assert asset.content_type in ("text/css", "text/javascript")
        unchanged = await client.get(url, headers={"If-None-Match": asset.headers["ETag"]})
        assert unchanged.status == 304
    bundle = await (await client.get("/docs/assets/swagger-ui-bundle.js")).text()
    assert "SwaggerUIBundle" in bundle and "OpenAPI31" in bundle, "a Swagger UI that reads OpenAPI 3.1"
    start = await (await client.get("/docs/assets/lango-docs.js")).text()
    assert '"/openapi.json"' in start and "validatorUrl: null" in start
    assert (await client.get("/docs/assets/index.html")).status == 404
