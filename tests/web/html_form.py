"""A console form as a browser would post it: the fields of the page's ``<form>`` with what
they show (text inputs, hidden fields, ticked boxes, chosen options, text areas), read with the
standard library's HTML parser. For tests that submit a prefilled form unchanged or changed."""

from __future__ import annotations

from html.parser import HTMLParser


class _FormReader(HTMLParser):
    def __init__(self, action: str) -> None:
        super().__init__(convert_charrefs=True)
        self.action = action
        self.inside = False
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("action") == self.action
        if not self.inside or ("name" not in a and tag not in {"option"}):
            return
        if tag == "input":
            kind = a.get("type", "text")
            if kind in {"checkbox", "radio"}:
                if "checked" in a:
                    self.fields.append((a["name"], a.get("value", "on")))
            elif kind not in {"submit", "button", "search"}:
                self.fields.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self._select, self._options = a["name"], []
        elif tag == "option" and self._select is not None:
            self._options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea":
            self._textarea, self._text = a["name"], []

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select" and self._select is not None:
            chosen = [value for value, selected in self._options if selected]
            first = self._options[0][0] if self._options else ""
            self.fields.append((self._select, chosen[0] if chosen else first))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.fields.append((self._textarea, "".join(self._text)))
            self._textarea = None


def form_fields(page: str, action: str) -> dict[str, list[str]]:
    """Each field of the form posting to ``action`` on ``page``, with every value it sends."""
    reader = _FormReader(action)
    reader.feed(page)
    fields: dict[str, list[str]] = {}
    for name, value in reader.fields:
        fields.setdefault(name, []).append(value)
    return fields
