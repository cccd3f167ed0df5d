"""web: the local web page, ``derivekit serve``, and its JSON API.

Job: every capability in the browser, served from the package: server-rendered pages that
work with JavaScript off and whose GET URLs reproduce their result, math as MathML made on
the server, a JSON API that mirrors the CLI's ``--format json``, and every computation in
a bounded pool of worker processes under a deadline. Needs the ``web`` extra (Starlette,
uvicorn, Jinja2, latex2mathml, python-multipart, itsdangerous).

May import: everything (the top layer, like cli).

Modules:
  app        the Starlette application: routes, middleware, the pool's life cycle
  pages      the HTML pages and the derivation export (.tex, .md, .json, .txt)
  inputs     reading a request's parameters (query, JSON, form, CSV upload) and running its job
  endpoints  the table of computations and the CLI arguments each may set
  worker     what a worker process runs: the CLI command with --format json, or an extra
  extras     page computations beyond the CLI: the f/f′/tangent graph, figures, preview,
             drill problems, pasted notes
  pool       the bounded pool of worker processes: deadline, kill and replace, 503 when full
  mathml     derivekit's LaTeX → whitelisted MathML
  markdown   derivekit's Markdown (notes) → HTML with MathML
  svgplot    the graph of f, f′ and the tangent line as inline SVG
  security   Content-Security-Policy and other headers, body and query-string caps

Exports: ``create_app``.
"""

from __future__ import annotations


def create_app(*args, **kwargs):
    """The ASGI application; see :func:`derivekit.web.app.create_app`."""
    from derivekit.web.app import create_app as build
    return build(*args, **kwargs)


__all__ = ["create_app"]
