"""Reading HTML pages the way a browser would load them: the assets they reference and the forms they hold."""

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    # The submit buttons' (name, value) pairs, in the page's order.
    buttons: list[tuple[str, str]] = field(default_factory=list)


class PageReader(HTMLParser):
    """Collects the URLs a page loads (scripts, stylesheets, images, icons) and its forms."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.assets: list[str] = []
        self.forms: list[Form] = []
        self.inline_scripts = 0
        self._in_inline_script = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = {name: value or "" for name, value in attrs}
        if tag == "script":
            if "src" in named:
                self.assets.append(named["src"])
            else:
                self._in_inline_script = True
        elif tag == "link" and "href" in named:
            self.assets.append(named["href"])
        elif tag in ("img", "source") and "src" in named:
            self.assets.append(named["src"])
        elif tag == "form":
            self.forms.append(Form(action=named.get("action", ""), method=named.get("method", "get").lower()))
        elif tag == "input" and self.forms and named.get("type") == "hidden":
            self.forms[-1].fields[named["name"]] = named.get("value", "")
        elif tag == "button" and self.forms and named.get("type", "submit") == "submit":
            self.forms[-1].buttons.append((named.get("name", ""), named.get("value", "")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._in_inline_script:
            self.inline_scripts += 1
            self._in_inline_script = False
