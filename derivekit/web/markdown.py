"""The Markdown that derivekit writes (notes, explanations) as HTML, math as MathML.

Only the subset derivekit's own writers produce: ATX headings, paragraphs, ``-``/``1.``
lists, pipe tables, fenced code, ``$$…$$`` display math, and inline ``$…$``, ``` `code` ```
and ``**bold**``. Everything is escaped first; only these constructs become markup.
"""

from __future__ import annotations

import html
import re

from markupsafe import Markup

from derivekit.web.mathml import mathml

_INLINE = re.compile(r"(\$[^$\n]+?\$|`[^`\n]+`)")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_ITEM = re.compile(r"^\s*(?:[-*]|\d+\.)\s+(.*)$")


def inline(text: str) -> str:
    out = []
    for index, part in enumerate(_INLINE.split(text)):
        if index % 2 and part.startswith("$"):
            out.append(str(mathml(part[1:-1])))
        elif index % 2:
            out.append(f"<code>{html.escape(part[1:-1])}</code>")
        else:
            out.append(_BOLD.sub(r"<strong>\1</strong>", html.escape(part)))
    return "".join(out)


def _table(rows: list[str]) -> str:
    cells = [[c.strip() for c in row.strip().strip("|").split("|")] for row in rows
             if not re.fullmatch(r"\s*\|?[\s:|-]+\|?\s*", row)]
    if not cells:
        return ""
    head, *body = cells
    out = ["<table><thead><tr>" + "".join(f"<th>{inline(c)}</th>" for c in head) + "</tr></thead><tbody>"]
    out += ["<tr>" + "".join(f"<td>{inline(c)}</td>" for c in row) + "</tr>" for row in body]
    return "".join(out) + "</tbody></table>"


def to_html(markdown: str) -> Markup:
    """HTML for ``markdown`` (the subset in the module docstring)."""
    lines = markdown.splitlines()
    out: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []
    i = 0

    def flush():
        if paragraph:
            out.append("<p>" + inline(" ".join(paragraph)) + "</p>")
            paragraph.clear()
        if items:
            out.append("<ul>" + "".join(f"<li>{inline(item)}</li>" for item in items) + "</ul>")
            items.clear()

    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith("```"):
            flush()
            end = next((j for j in range(i + 1, len(lines)) if lines[j].strip().startswith("```")), len(lines))
            out.append("<pre><code>" + html.escape("\n".join(lines[i + 1:end])) + "</code></pre>")
            i = end + 1
            continue
        if stripped.startswith("$$"):
            flush()
            if stripped.endswith("$$") and len(stripped) > 4:
                body, i = stripped[2:-2], i + 1
            else:
                end = next((j for j in range(i + 1, len(lines)) if lines[j].strip().endswith("$$")), len(lines))
                body = "\n".join([stripped[2:]] + lines[i + 1:end] + [lines[end].strip()[:-2] if end < len(lines) else ""])
                i = end + 1
            out.append(f'<p class="math">{mathml(body.strip(), True)}</p>')
            continue
        if stripped.startswith("|"):
            flush()
            end = i
            while end < len(lines) and lines[end].strip().startswith("|"):
                end += 1
            out.append(_table(lines[i:end]))
            i = end
            continue
        heading = _HEADING.match(stripped)
        item = _ITEM.match(line)
        if heading:
            flush()
            level = min(len(heading.group(1)) + 1, 6)  # the page has its own h1
            out.append(f"<h{level}>{inline(heading.group(2))}</h{level}>")
        elif not stripped:
            flush()
        elif item:
            if paragraph:
                flush()
            items.append(item.group(1))
        elif items and line.startswith("  "):
            items[-1] += " " + stripped
        else:
            if items:
                flush()
            paragraph.append(stripped)
        i += 1
    flush()
    return Markup("\n".join(out))
