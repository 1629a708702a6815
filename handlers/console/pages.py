"""The console's pages: Jinja2 templates read once at start, rendered in the visitor's language under a strict CSP."""

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import hdrs, web

from gateway.http_security import CONSOLE_CSP

LANGUAGES = ("en", "sw")
LANGUAGE_COOKIE = "lango_console_lang"


@dataclass(frozen=True)
class Catalogue:
    """Every string the pages show, by key, in each language; a key missing in Swahili falls back to English."""

    strings: dict[str, dict[str, str]]

    def translator(self, language: str) -> Any:
        chosen, english = self.strings.get(language, {}), self.strings["en"]

        def translate(key: str, default: str | None = None, **values: object) -> str:
            text = chosen.get(key) or english.get(key) or default or key
            return text.format(**values) if values else text

        return translate


@dataclass(frozen=True)
class Pages:
    """The template environment and the string catalogue, both read from the console's folder at start-up."""

    environment: jinja2.Environment
    catalogue: Catalogue

    @classmethod
    @functools.cache
    def read(cls, folder: Path) -> "Pages":
        """Read once per process, however many gateways it builds."""
        templates = {path.name: path.read_text() for path in sorted((folder / "templates").glob("*.html"))}
        # Templates are held in memory: rendering never reads a file on the event loop.
        environment = jinja2.Environment(
            loader=jinja2.DictLoader(templates), autoescape=True, undefined=jinja2.StrictUndefined
        )
        catalogue = Catalogue(json.loads((folder / "strings.json").read_text()))
        return cls(environment, catalogue)

    def render(self, request: web.Request, template: str, *, status: int = 200, **context: Any) -> web.Response:
        language = language_of(request)
        body = self.environment.get_template(template).render(
            t=self.catalogue.translator(language), language=language, path=request.path, **context
        )
        return web.Response(
            text=body,
            status=status,
            content_type="text/html",
            headers={
                "Content-Security-Policy": CONSOLE_CSP,
                # Pages carry account data and a form token: never kept by a cache.
                hdrs.CACHE_CONTROL: "no-store",
                "Referrer-Policy": "same-origin",
            },
        )


def language_of(request: web.Request) -> str:
    """The language the visitor chose, else the first of theirs the console speaks, else English."""
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    for part in request.headers.get(hdrs.ACCEPT_LANGUAGE, "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGUAGES:
            return tag
    return "en"
