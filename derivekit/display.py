"""The output protocol every result type shares: text, LaTeX, Markdown, JSON-ready dict,
and Jupyter display.

A result type subclasses :class:`Displayable` and implements ``_render(fmt, **settings)``
for ``fmt`` in :data:`FORMATS`; the public methods and the Jupyter hooks come from here.
"""

from __future__ import annotations

import json
from typing import Any

FORMATS = ("text", "latex", "markdown", "dict")


class Displayable:
    """Mixin: ``to_text``, ``to_latex``, ``to_markdown``, ``to_dict``, ``to_json``."""

    def _render(self, fmt: str, **settings) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def to_text(self, **settings) -> str:
        return self._render("text", **settings)

    def to_latex(self, **settings) -> str:
        return self._render("latex", **settings)

    def to_markdown(self, **settings) -> str:
        return self._render("markdown", **settings)

    def to_dict(self, **settings) -> dict:
        return self._render("dict", **settings)

    def to_json(self, **settings) -> str:
        return json.dumps(self.to_dict(**settings), indent=2, ensure_ascii=False)

    def render(self, fmt: str = "text", **settings) -> str:
        """Render in ``fmt``: text, latex, markdown or json."""
        try:
            return self._render_checked(fmt, **settings)
        except RecursionError:  # a printer walking a very deep expression
            from derivekit.errors import LimitError
            raise LimitError("the result is nested too deeply to print",
                             hint="simplify the input, or split it with intermediate "
                                  "variables") from None

    def _render_checked(self, fmt: str, **settings) -> str:
        if fmt == "json":
            return self.to_json(**settings)
        if fmt not in FORMATS or fmt == "dict":
            from derivekit.errors import DerivekitError
            raise DerivekitError(f"unknown format '{fmt}'", hint="use text, latex, markdown or json")
        return self._render(fmt, **settings)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def _repr_latex_(self) -> str:
        return "$$" + self.to_latex() + "$$"

    def __str__(self) -> str:
        return self.to_text()
