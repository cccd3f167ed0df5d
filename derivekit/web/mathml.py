"""derivekit's LaTeX as MathML the browser renders natively, made safe to put in a page.

``latex2mathml`` converts; its output is then parsed and rebuilt from a whitelist of MathML
elements and attributes (latex2mathml copies ``\\text{…}`` verbatim, markup included), so
nothing but MathML leaves here. Anything that does not convert cleanly is shown as escaped
LaTeX source instead: a reader still sees the math, never a broken page.
"""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from functools import lru_cache

from markupsafe import Markup

NS = "{http://www.w3.org/1998/Math/MathML}"
ELEMENTS = {
    "math", "mrow", "mi", "mn", "mo", "mtext", "ms", "mspace", "msup", "msub", "msubsup", "mfrac",
    "msqrt", "mroot", "mover", "munder", "munderover", "mtable", "mtr", "mtd", "mstyle",
    "mpadded", "mphantom", "menclose", "mfenced", "semantics", "annotation",
}
ATTRIBUTES = {
    "display", "stretchy", "fence", "form", "accent", "accentunder", "mathvariant", "columnalign",
    "rowalign", "columnspacing", "rowspacing", "columnlines", "rowlines", "frame", "framespacing",
    "width", "height", "depth", "lspace", "rspace", "linethickness", "notation", "displaystyle",
    "scriptlevel", "separator", "largeop", "movablelimits", "symmetric", "minsize", "maxsize",
    "open", "close", "separators", "encoding", "align",
}


class _Unsafe(Exception):
    pass


def _rebuild(node: ET.Element) -> str:
    tag = node.tag[len(NS):] if node.tag.startswith(NS) else node.tag
    if tag not in ELEMENTS:
        raise _Unsafe(tag)
    attrs = "".join(f' {name}="{html.escape(value, quote=True)}"'
                    for name, value in sorted(node.attrib.items()) if name in ATTRIBUTES)
    if tag == "math":
        attrs = ' xmlns="http://www.w3.org/1998/Math/MathML"' + attrs
    inner = html.escape(node.text or "", quote=False)
    for child in node:
        inner += _rebuild(child) + html.escape(child.tail or "", quote=False)
    return f"<{tag}{attrs}>{inner}</{tag}>"


@lru_cache(maxsize=4096)
def _convert(latex: str, display: bool) -> str:
    from latex2mathml.converter import convert
    try:
        raw = convert(latex, display="block" if display else "inline")
        return _rebuild(ET.fromstring(raw))
    except Exception:  # noqa: BLE001 - any failure falls back to the escaped source
        return f'<code class="latex">{html.escape(latex)}</code>'


def mathml(latex: str | None, display: bool = False) -> Markup:
    """The MathML for ``latex`` (an inline ``<math>``, or a block one with ``display``)."""
    if not latex:
        return Markup("")
    return Markup(_convert(str(latex), bool(display)))


def prose(text: str | None) -> Markup:
    """A sentence from derivekit's Markdown: ``$…$`` spans become MathML, the rest is escaped."""
    if not text:
        return Markup("")
    parts = str(text).split("$")
    if len(parts) % 2 == 0:  # unbalanced: show it as it is
        return Markup(html.escape(str(text)))
    out = []
    for index, part in enumerate(parts):
        out.append(_convert(part, False) if index % 2 else html.escape(part))
    return Markup("".join(out))
