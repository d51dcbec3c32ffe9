"""A tiny Markdown subset for rubric guidelines, escaped first so nothing a rubric author types becomes markup.

Supported: `#`–`###` headings, `-`/`*` bullet lists, blank-line paragraphs, **bold**, *italic* and `code`.
"""

from __future__ import annotations

import re

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

INLINE = [
    (re.compile(r"`([^`]+)`"), r"<code>\1</code>"),
    (re.compile(r"\*\*(.+?)\*\*"), r"<strong>\1</strong>"),
    (re.compile(r"(?<![*\w])\*(?!\s)(.+?)(?<!\s)\*(?![*\w])"), r"<em>\1</em>"),
]
HEADING = re.compile(r"^(#{1,3})\s+(.*)$")
BULLET = re.compile(r"^[-*]\s+(.*)$")


def _inline(text: str) -> str:
    text = escape(text)
    for pattern, replacement in INLINE:
        text = pattern.sub(replacement, text)
    return text


@register.filter
def markdown(source: str | None) -> SafeString:
    html: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []

    def flush() -> None:
        if paragraph:
            html.append(f"<p>{' '.join(_inline(line) for line in paragraph)}</p>")
            paragraph.clear()
        if items:
            html.append("<ul>" + "".join(f"<li>{_inline(item)}</li>" for item in items) + "</ul>")
            items.clear()

    for raw in (source or "").splitlines():
        line = raw.strip()
        heading, bullet = HEADING.match(line), BULLET.match(line)
        if not line:
            flush()
        elif heading:
            flush()
            level = len(heading.group(1)) + 2  # h3..h5: guidelines sit inside a page that has its own h1
            html.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
        elif bullet:
            if paragraph:
                flush()
            items.append(bullet.group(1))
        elif items:
            items[-1] += " " + line
        else:
            paragraph.append(line)
    flush()
    return mark_safe("\n".join(html))
