"""Small HTML helpers shared by the widgets."""

from __future__ import annotations

import re
from html import escape

BADGE_COLOURS = {"PASS": "#3e8635", "FAIL": "#c9190b", "RUNNING": "#6a6e73", "INFO": "#0066cc"}


class TextPlain:
    """Mixin for widgets: the output bundle's text/plain is the widget's whole ``text`` (ipywidgets would put a
    ``VBox(children=…`` repr there, cut at 110 characters). nbval compares it; JupyterLab shows the live view."""

    def __repr__(self) -> str:
        return self.text

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle:
            bundle["text/plain"] = self.text
        return bundle


def paragraphs(text: str) -> str:
    """Plain text to HTML: blank lines separate paragraphs, `backticks` mark code. Everything else is escaped."""
    out = []
    for block in re.split(r"\n\s*\n", text.strip()):
        html = re.sub(r"`([^`]+)`", r"<code>\1</code>", escape(block))
        out.append(f"<p>{html}</p>")
    return "".join(out)


def pre(lines: list[str] | tuple[str, ...], css: str = "") -> str:
    style = f' style="{css}"' if css else ""
    return f"<pre{style}>{escape(chr(10).join(lines))}</pre>" if lines else ""


def badge(word: str, text: str = "") -> str:
    colour = BADGE_COLOURS.get(word, "#6a6e73")
    label = (
        f'<span class="lab-badge" data-badge="{escape(word)}" '
        f'style="background:{colour};color:#fff;border-radius:4px;padding:1px 8px;font-weight:bold">'
        f"{escape(word)}</span>"
    )
    return f"{label} {escape(text)}" if text else label
