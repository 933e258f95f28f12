"""Small HTML helpers shared by the widgets."""
from __future__ import annotations

import re
from html import escape

BADGE_COLOURS = {"PASS": "#3e8635", "FAIL": "#c9190b", "RUNNING": "#6a6e73"}


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
    label = (f'<span style="background:{colour};color:#fff;border-radius:4px;padding:1px 8px;font-weight:bold">'
             f"{escape(word)}</span>")
    return f"{label} {escape(text)}" if text else label
