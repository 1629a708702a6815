"""Notification templates: Jinja2 files per language, each kind with its subject, texts, push and HTML email."""

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, select_autoescape

from documents.notification import NotificationKind
from gateway.notifications.formatting import day, local_day, local_time, money
from gateway.notifications.sms_text import to_gsm7

TEMPLATE_DIR = Path(__file__).parent / "templates"
LOCALES = ("en", "sw")
# What `<kind>.txt` sets with `{% set name %}...{% endset %}`; the HTML email is `<kind>.html`.
TEXT_PARTS = ("subject", "text", "sms", "push_title", "push_body")


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    sms: str
    push_title: str
    push_body: str


class NotificationTemplates:
    """Every template compiled up front: a missing file fails at start-up, and no render touches the disk."""

    def __init__(self, directory: Path = TEMPLATE_DIR) -> None:
        self._environment = Environment(
            loader=FileSystemLoader(directory),
            # Only the HTML email is escaped; plain text and SMS must keep "&" and "<" as written.
            autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            auto_reload=False,
        )
        self._environment.filters.update(money=money, day=day, local_day=local_day, local_time=local_time)
        self._templates: dict[tuple[str, str, str], Template] = {
            (locale, kind.value, extension): self._environment.get_template(f"{locale}/{kind.value}.{extension}")
            for locale in LOCALES
            for kind in NotificationKind
            for extension in ("txt", "html")
        }

    def render(self, kind: NotificationKind, locale: str, context: Mapping[str, Any]) -> Rendered:
        values = {**context, "locale": locale}
        parts = self._templates[(locale, kind.value, "txt")].make_module(values)
        texts = {name: str(getattr(parts, name)).strip() for name in TEXT_PARTS}
        texts["sms"] = to_gsm7(texts["sms"])
        html = self._templates[(locale, kind.value, "html")].render(values)
        return Rendered(html=html.strip(), **texts)


TEMPLATES = NotificationTemplates()
