"""The HTML pages: each a GET form whose URL reproduces its result (works with JavaScript off).

A page reads its parameters, runs one job in the pool and renders a Jinja2 template; math
goes through :mod:`derivekit.web.mathml`, and everything else is escaped by Jinja2's
autoescape. The page's HTTP status is the computation's (400/422/503 for errors).
"""

from __future__ import annotations

from html import escape
from pathlib import Path

import jinja2

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from derivekit.web.inputs import BadRequest, compute, request_params
from derivekit.web.mathml import mathml, prose

HERE = Path(__file__).resolve().parent
TEMPLATES = Jinja2Templates(env=jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(HERE / "templates")), autoescape=True))
TEMPLATES.env.filters["mathml"] = mathml
TEMPLATES.env.filters["prose"] = prose
TEMPLATES.env.globals["NAV"] = [("/", "Home"), ("/derive", "Derive"), ("/check", "Check"),
                                ("/matrix", "Matrix"), ("/descend", "Descend"),
                                ("/linalg", "Linear algebra"), ("/drill", "Drill"), ("/notes", "Notes")]

# (label, page, query) - the curriculum's examples on the home page
GALLERY = [
    ("σ(wx + b)", "/derive", {"expr": "sigmoid(w*x + b)", "wrt": "w"}),
    ("tanh", "/derive", {"expr": "tanh(x)", "wrt": "x"}),
    ("softmax cross-entropy", "/matrix",
     {"mode": "matgrad", "loss": "-sum(y*log(softmax(z)))", "wrt": "z", "shapes": "z=3x1,y=3x1"}),
    ("softmax Jacobian", "/matrix",
     {"mode": "matgrad", "what": "jacobian", "loss": "softmax(z)", "wrt": "z", "shapes": "z=4x1"}),
    ("BCE ∘ σ", "/derive", {"expr": "-(y*log(sigmoid(z)) + (1 - y)*log(1 - sigmoid(z)))", "wrt": "z"}),
    ("MSE", "/matrix", {"mode": "matgrad", "loss": "mean((X@w - y)**2)", "wrt": "w",
                        "shapes": "X=5x3,w=3x1,y=5x1"}),
    ("x²", "/derive", {"expr": "x^2", "wrt": "x"}),
    ("dot product", "/linalg", {"op": "dot", "u": "[1,2,3]", "v": "[4,5,6]"}),
    ("eigenvalues", "/linalg", {"op": "eig", "matrix": "[[2,1],[1,2]]"}),
    ("PCA", "/linalg", {"op": "pca", "data": "gaussian2d", "k": "1"}),
    ("a gradient-descent step", "/descend",
     {"expr": "x^2 + 10*y^2", "start": "x=1,y=1", "method": "gd", "lr": "0.05", "steps": "20"}),
    ("check a wrong derivative", "/check", {"expr": "sigmoid(w*x)", "claim": "sigmoid(w*x)", "wrt": "w"}),
]
DERIVE_KINDS = {"derivative": "derive", "gradient": "grad", "jacobian": "jacobian", "hessian": "hessian"}
MATRIX_MODES = {"matgrad": ("extra", "matgrad_page"), "check-backprop": ("cli", "check-backprop"),
                "backprop": ("cli", "backprop"), "gradflow": ("extra", "gradflow_page")}
# the matrix page's "What" select -> the CLI flag that asks for it (matgrad and check-backprop)
MATRIX_WHAT = {"gradient": None, "jacobian": "jacobian", "hessian": "hessian"}
LINALG_OPS = {"dot": ("cli", "dot"), "matmul": ("cli", "matmul"), "det": ("cli", "det"),
              "inv": ("cli", "inv"), "rank": ("cli", "rank"), "transpose": ("cli", "transpose"),
              "norm": ("cli", "norm"), "eig": ("extra", "eig_page"),
              "pca": ("extra", "pca_page")}
EXPORTS = {"tex": ("latex", "text/x-tex", "tex"), "md": ("markdown", "text/markdown", "md"),
           "json": ("cli", "application/json", "json"), "txt": ("text", "text/plain", "txt")}


def _query(params: dict, **changes) -> str:
    from urllib.parse import urlencode
    merged = {**params, **changes}
    return urlencode([(k, v) for k, v in merged.items() if v not in (None, "")], doseq=True)


TEMPLATES.env.globals["query"] = _query


def tex_engine() -> str | None:
    """The TeX engine the PDF downloads use, or None (the pages then say there is none)."""
    from derivekit.render.latexdoc import find_engine
    return find_engine()


TEMPLATES.env.globals["tex_engine"] = tex_engine


def pdf_response(status: int, payload: dict, filename: str) -> Response:
    """A compiled PDF (extras.compiled_pdf's payload) as a download."""
    import base64
    return Response(base64.b64decode(payload["pdf"]), status_code=status, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def render(request: Request, template: str, status: int = 200, **context) -> Response:
    return TEMPLATES.TemplateResponse(request, template, context, status_code=status)


async def _page(request: Request, template: str, job_for, required: tuple[str, ...], **extra):
    """Read parameters, run the page's job when its required ones are given, render."""
    try:
        params = await request_params(request)
    except BadRequest as exc:
        return render(request, template, exc.status, params={}, error={"error": exc.message,
                                                                     "hint": exc.hint}, **extra)
    params = {k: v for k, v in params.items() if v not in (None, "")}
    context = {"params": params, "result": None, "error": None, **extra}
    status = 200
    job = job_for(params)
    if job is not None and all(params.get(name) for name in required):
        if isinstance(job, dict):  # an error found before any computation
            status, payload = 400, job
        else:
            status, payload = await compute(request, job)
        context["result" if status == 200 else "error"] = payload
    return render(request, template, status, **context)


def _pick(table: dict, params: dict, key: str, default: str):
    choice = params.get(key) or default
    if choice not in table:
        return {"error": f"unknown {key} {choice!r}", "hint": "one of: " + ", ".join(table),
                "position": None}
    return table[choice] + ({k: v for k, v in params.items() if k != key},)


async def home(request: Request) -> Response:
    return render(request, "home.html", gallery=GALLERY, query=_query)


async def derive(request: Request) -> Response:
    return await _page(request, "derive.html", lambda p: ("extra", "derive_page", dict(p)), ("expr",))


async def check(request: Request) -> Response:
    return await _page(request, "check.html", lambda p: ("cli", "check", dict(p)), ("expr", "claim", "wrt"))


def _what_flag(params: dict) -> dict:
    """``what=jacobian`` (the page's select) as the CLI's ``jacobian`` flag; an unknown
    choice as an error payload. Without ``what`` the flags pass through as given."""
    if "what" not in params:
        return params
    what = params["what"]
    if not isinstance(what, str) or what not in MATRIX_WHAT:
        return {"error": f"unknown choice {str(what)[:40]!r} for What", "position": None,
                "hint": "one of: " + ", ".join(MATRIX_WHAT)}
    params = {k: v for k, v in params.items() if k not in ("what", "jacobian", "hessian")}
    if MATRIX_WHAT[what]:
        params[MATRIX_WHAT[what]] = "1"
    return params


async def matrix(request: Request) -> Response:
    def job(p):
        mode = p.get("mode") or "matgrad"
        if mode in ("backprop",) and not p.get("spec"):
            return None
        if mode == "gradflow" and not p.get("run"):
            return None
        params = {k: v for k, v in p.items() if k != "run"}
        if mode in ("matgrad", "check-backprop"):
            params = _what_flag(params)
            if "error" in params:
                return params
        return _pick(MATRIX_MODES, params, "mode", "matgrad")
    mode = request.query_params.get("mode") or "matgrad"
    required = {"matgrad": ("loss", "wrt", "shapes"), "check-backprop": ("loss", "wrt", "shapes", "claim")
                }.get(mode, ())
    return await _page(request, "matrix.html", job, required, mode=mode)


async def descend(request: Request) -> Response:
    return await _page(request, "descend.html", lambda p: ("extra", "descend_page", dict(p)), ("expr",))


async def linalg(request: Request) -> Response:
    op = request.query_params.get("op") or "dot"

    def job(p):
        if op == "pca" and not (p.get("data") or p.get("csv")):
            return None
        return _pick(LINALG_OPS, p, "op", "dot")
    required = {"dot": ("u", "v"), "matmul": ("a", "b"), "pca": (), "norm": ("x",)}.get(op, ("matrix",))
    return await _page(request, "linalg.html", job, required, op=op)


MAX_SCORED = 200  # problems remembered in the session cookie


async def drill(request: Request) -> Response:
    """A problem, then a hint, then the steps; an answer is graded and scored in the signed
    session cookie (no accounts)."""
    try:
        params = await request_params(request)
    except BadRequest as exc:
        return render(request, "drill.html", exc.status, params={}, result=None, score=None,
                      error={"error": exc.message, "hint": exc.hint})
    params = {k: v for k, v in params.items() if v not in (None, "")}
    status, payload = await compute(request, ("extra", "drill_page", params))
    scored = dict(request.session.get("drill", {}))
    if status == 200 and payload.get("feedback") and payload["feedback"]["readable"]:
        key = f"{payload['seed']}:{payload['topic']}:{payload['difficulty']}:{payload['n']}"
        scored.pop(key, None)
        scored[key] = bool(payload["feedback"]["ok"])
        while len(scored) > MAX_SCORED:
            scored.pop(next(iter(scored)))
        request.session["drill"] = scored
    score = {"right": sum(scored.values()), "answered": len(scored)}
    return render(request, "drill.html", status if status != 200 else 200, params=params,
                  result=payload if status == 200 else None, error=None if status == 200 else payload,
                  score=score)


async def notes_view(request: Request) -> Response:
    """Pasted notes previewed as HTML; downloads of the Markdown, the LaTeX and the PDF
    (compiled in a worker by the hardened :func:`derivekit.render.latexdoc.compile_pdf`)."""
    from derivekit.web.markdown import to_html
    try:
        params = await request_params(request)
    except BadRequest as exc:
        return render(request, "notes.html", exc.status, params={}, result=None,
                      error={"error": exc.message, "hint": exc.hint})
    context = {"params": params, "result": None, "error": None, "preview": None}
    status = 200
    if params.get("text") and params.get("download") == "pdf":
        status, payload = await compute(request, ("extra", "notes_pdf", {"text": params["text"]}),
                                         cache=False)
        if status == 200:
            return pdf_response(status, payload, "notes.pdf")
        context["error"] = payload
    elif params.get("text"):
        status, payload = await compute(request, ("extra", "notes_page", {"text": params["text"]}))
        if status == 200:
            download = params.get("download")
            if download in ("md", "tex"):
                body = payload["markdown" if download == "md" else "tex"]
                media = "text/markdown" if download == "md" else "text/x-tex"
                return Response(body, media_type=f"{media}; charset=utf-8", headers={
                    "Content-Disposition": f'attachment; filename="notes.{download}"'})
            context["result"], context["preview"] = payload, to_html(payload["markdown"])
        else:
            context["error"] = payload
    return render(request, "notes.html", status, **context)


async def export(request: Request) -> Response:
    """A derivation as a file: .tex, .md, .json or .txt (the CLI's own formats), or .pdf
    (compiled in a worker by the hardened :func:`derivekit.render.latexdoc.compile_pdf`)."""
    fmt = request.path_params["fmt"]
    if fmt not in EXPORTS and fmt != "pdf":
        return PlainTextResponse("unknown format; use tex, md, json, txt or pdf", status_code=404)
    try:
        params = await request_params(request)
    except BadRequest as exc:
        return PlainTextResponse(exc.message, status_code=exc.status)
    if fmt == "pdf":
        status, payload = await compute(request, ("extra", "derive_pdf", params), cache=False)
        if status == 200:
            return pdf_response(status, payload, "derivation.pdf")
        return PlainTextResponse(f"error: {payload.get('error')}\nhint: {payload.get('hint')}\n",
                                 status_code=status)
    kind_of_job, media, ext = EXPORTS[fmt]
    kind = params.pop("kind", None) or "derivative"
    params.pop("at", None)
    if kind not in DERIVE_KINDS:
        return PlainTextResponse(f"unknown kind {kind!r}", status_code=400)
    if kind != "derivative":
        params.pop("order", None)
    status, payload = await compute(request, (kind_of_job, DERIVE_KINDS[kind], params))
    if status != 200:
        return PlainTextResponse(f"error: {payload.get('error')}\nhint: {payload.get('hint')}\n",
                                 status_code=status)
    if kind_of_job == "cli":
        import json
        body = json.dumps(payload, ensure_ascii=False, indent=2) + "\n"
    else:
        body = payload["output"]
    inline = request.query_params.get("inline")
    disposition = "inline" if inline else f'attachment; filename="derivation.{ext}"'
    return Response(body, media_type=f"{media}; charset=utf-8",
                    headers={"Content-Disposition": disposition})


async def preview(request: Request) -> Response:
    """An HTML fragment: the input as derivekit read it (MathML), or why it could not."""
    expr = request.query_params.get("expr", "")[:2000]
    status, payload = await compute(request, ("extra", "preview", {"expr": expr}))
    if status == 200:
        return HTMLResponse(str(mathml(payload["latex"], True)))
    return HTMLResponse(f'<span class="wrong">{escape(str(payload.get("error", "")))}</span>')


def routes() -> list[Route]:
    return [
        Route("/", home),
        Route("/derive", derive),
        Route("/check", check, methods=["GET", "POST"]),
        Route("/matrix", matrix, methods=["GET", "POST"]),
        Route("/descend", descend),
        Route("/linalg", linalg, methods=["GET", "POST"]),
        Route("/drill", drill),
        Route("/notes", notes_view, methods=["GET", "POST"]),
        Route("/export/derivation.{fmt}", export),
        Route("/preview", preview),
    ]
