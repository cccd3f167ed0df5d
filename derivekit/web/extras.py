"""Page computations that add to the CLI's JSON: the derivative's graph, figures, drills.

Each entry of :data:`EXTRAS` takes the request's parameters and returns a JSON-ready dict;
it runs inside a worker process like the CLI commands (see :mod:`derivekit.web.worker`).
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import tempfile

import numpy as np

from derivekit.errors import DerivekitError

KINDS = {"derivative": "derive", "gradient": "grad", "jacobian": "jacobian", "hessian": "hessian"}


def parsed_cli(name: str, params: dict, extra: list[str] = ()):
    """(CLI module, argparse namespace) for endpoint ``name``; usage errors as DerivekitError."""
    from derivekit.cli.dispatch import build_parser
    from derivekit.web.endpoints import ENDPOINTS, RequestError, argv_for

    parser, module = build_parser(ENDPOINTS[name].command)
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            args = parser.parse_args(list(extra) + argv_for(name, params))
        except SystemExit:
            lines = [line for line in err.getvalue().splitlines() if line.strip()]
            message = (lines[-1] if lines else "the request could not be read").split("error: ", 1)[-1]
            raise RequestError(message, hint="see the parameter names in docs/web.md") from None
    return module, args


def number(params: dict, name: str, default: float) -> float:
    value = params.get(name)
    if value in (None, ""):
        return default
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise DerivekitError(f"{name} must be a number, not {str(value)[:40]!r}",
                             hint=f"e.g. {name}=1") from None
    if not np.isfinite(result) or abs(result) > 1e6:
        raise DerivekitError(f"{name} must be a finite number no larger than 10⁶", hint=f"e.g. {name}=1")
    return result


def _graph(expr, derivation, var, x0: float) -> str | None:
    """Inline SVG of f, f′ and the tangent at x₀; None when f has other variables."""
    from derivekit.plots.tangent import samples
    from derivekit.web.svgplot import tangent_plot

    if expr.free_symbols != {var}:
        return None
    data = samples(expr, derivation.result, var, x0)
    return tangent_plot(data.xs, data.f, data.fprime, data.x0, data.f0, data.slope, data.name)


def derive_page(params: dict) -> dict:
    """The CLI's JSON for derive/grad/jacobian/hessian, plus, for a first derivative in one
    variable, ``graph``: f, f′ and the tangent at ``at`` as inline SVG."""
    params = dict(params)
    kind = params.pop("kind", None) or "derivative"
    if kind not in KINDS:
        raise DerivekitError(f"unknown kind {kind!r}", hint="derivative, gradient, jacobian or hessian")
    at = number(params, "at", 1.0)
    params.pop("at", None)
    name = KINDS[kind]
    if name != "derive":
        params.pop("order", None)
    module, args = parsed_cli(name, params)
    result = module.compute(args)
    payload = json.loads(result.render("json", notation=args.notation, steps=not args.no_steps))
    payload["kind_requested"] = kind
    if name == "derive" and args.order == 1:
        from derivekit.parsing.parse import parse
        payload["graph"] = _graph(parse(args.expr, syntax=args.syntax), result, result.wrt, at)
        payload["at"] = at
    return payload


def matgrad_page(params: dict) -> dict:
    """The CLI's JSON for matgrad (gradient, ``jacobian`` or ``hessian``), plus what the page
    shows as math and the JSON has only as text: ``equation`` (the Jacobian's or Hessian's
    LaTeX with its left side, ∂²L/∂vec(X)∂vec(X)ᵀ for a matrix X), ``gradient_latex`` and
    each tidying move's ``before_latex``/``after_latex``."""
    from derivekit.matrix.printers import to_latex

    _module, args = parsed_cli("matgrad", params)
    if args.jacobian or args.hessian:
        from derivekit.matrix.jacobian import matrix_hessian, matrix_jacobian
        derive = matrix_jacobian if args.jacobian else matrix_hessian
    else:
        from derivekit.matrix.gradient import matrix_gradient as derive
    result = derive(args.loss, args.wrt, args.shapes, syntax=args.syntax, timeout=args.timeout,
                    assume=args.assume)
    payload = json.loads(result.render("json"))
    for move, applied in zip(payload.get("moves") or [], result.moves):
        move["before_latex"], move["after_latex"] = to_latex(applied.before), to_latex(applied.after)
    if args.jacobian or args.hessian:
        payload["equation"] = result.render("latex")
        payload["gradient_latex"] = None if result.gradient is None else to_latex(result.gradient)
        payload["assumed"] = result.assumption_text()
    return payload


def _data_uri(path: str) -> str | None:
    if not os.path.exists(path) or os.path.getsize(path) > 2_000_000:
        return None
    kind = "image/svg+xml" if path.endswith(".svg") else "image/png"
    with open(path, "rb") as handle:
        return f"data:{kind};base64," + base64.b64encode(handle.read()).decode("ascii")


def with_figure(name: str, suffix: str = ".png"):
    """The CLI's JSON for ``name`` and its ``--plot`` figure, written to a file of the
    worker's own and returned as a data: URI (no path ever comes from a request)."""

    def run(params: dict) -> dict:
        from derivekit.web.worker import run_cli_json
        with tempfile.TemporaryDirectory(prefix="derivekit-web-") as folder:
            path = os.path.join(folder, "figure" + suffix)
            answer = run_cli_json(name, params, extra=[f"--plot={path}"])
            if answer["status"] != 200:
                raise _Answered(answer)
            payload = answer["payload"]
            try:
                payload["figure"] = _data_uri(path)
            except OSError:
                payload["figure"] = None
        return payload

    return run


class _Answered(Exception):
    """A computation that already produced its (error) answer."""

    def __init__(self, answer: dict):
        super().__init__(answer["payload"].get("error"))
        self.answer = answer


def preview(params: dict) -> dict:
    """The parsed input as LaTeX (what derivekit understood), for the live preview."""
    from derivekit.parsing.parse import parse
    from derivekit.render.printing import to_latex
    from derivekit.web.endpoints import RequestError

    expr = params.get("expr")
    if not isinstance(expr, str) or not expr.strip():
        raise RequestError("nothing to preview", hint="type an expression")
    return {"latex": to_latex(parse(expr))}


MAX_NOTE_BLOCKS = 24


def notes_page(params: dict) -> dict:
    """Pasted notes (Markdown with ```derivekit blocks) as Markdown and LaTeX; no file is
    read or written (the PDF is :func:`notes_pdf`)."""
    from derivekit.study import notes
    from derivekit.web.endpoints import RequestError, _text

    text = _text("text", params.get("text") or "")
    if not text.strip():
        raise RequestError("no notes given", hint="paste Markdown with ```derivekit blocks")
    if text.count("```derivekit") > MAX_NOTE_BLOCKS:
        raise RequestError(f"the notes have more than {MAX_NOTE_BLOCKS} derivekit blocks",
                           hint="split them into several pages")
    doc = notes.evaluate(notes.parse_notes(text, source="<pasted notes>"))
    return {"markdown": notes.to_markdown(doc), "tex": notes.to_tex(doc), "topics": len(doc.topics)}


MAX_TEX_CHARS = 200_000  # a document's source, before it reaches the engine
MAX_PDF_BYTES = 2_000_000  # the PDF sent back
PDF_TIMEOUT_S = 6.0  # per engine run; the worker's deadline (worker.DEADLINE_S) bounds the whole


def compiled_pdf(tex: str) -> dict:
    """``tex`` (a document derivekit wrote, its user math already re-emitted by
    :mod:`derivekit.render.safetex`) compiled by the hardened
    :func:`derivekit.render.latexdoc.compile_pdf` in a folder of the worker's own; the PDF as
    base64, refused above :data:`MAX_TEX_CHARS` of source or :data:`MAX_PDF_BYTES` of PDF."""
    from derivekit.render.latexdoc import INSTALL_HINT, compile_pdf, find_engine

    if find_engine() is None:
        raise DerivekitError("this server has no TeX engine, so it cannot make a PDF", hint=INSTALL_HINT)
    if len(tex) > MAX_TEX_CHARS:
        raise DerivekitError(f"the document is over {MAX_TEX_CHARS // 1000} K characters of LaTeX",
                             hint="download the .tex and compile it yourself, or shorten the input")
    with tempfile.TemporaryDirectory(prefix="derivekit-web-") as folder:
        path = compile_pdf(tex, os.path.join(folder, "document.pdf"), timeout=PDF_TIMEOUT_S)
        if os.path.getsize(path) > MAX_PDF_BYTES:
            raise DerivekitError(f"the PDF is over {MAX_PDF_BYTES / 1e6:g} MB",
                                 hint="download the .tex and compile it yourself")
        with open(path, "rb") as handle:
            data = handle.read()
    return {"pdf": base64.b64encode(data).decode("ascii"), "bytes": len(data)}


def derive_pdf(params: dict) -> dict:
    """The derivation of the /derive page (any kind) as a PDF: the notes' rendering of a
    result (:func:`derivekit.study.notes.result_latex`) in derivekit's document preamble."""
    from derivekit.render.latexdoc import document
    from derivekit.study.notes import result_latex

    params = dict(params)
    kind = params.pop("kind", None) or "derivative"
    if kind not in KINDS:
        raise DerivekitError(f"unknown kind {kind!r}", hint="derivative, gradient, jacobian or hessian")
    params.pop("at", None)
    if KINDS[kind] != "derive":
        params.pop("order", None)
    module, args = parsed_cli(KINDS[kind], params)
    return compiled_pdf(document(result_latex(module.compute(args)), title=f"derivekit: the {kind}"))


def notes_pdf(params: dict) -> dict:
    """Pasted notes as a PDF: :func:`notes_page`'s LaTeX (prose escaped, math re-emitted
    from allowed tokens, so ``$\\input{/etc/passwd}$`` is refused before any compile)."""
    return compiled_pdf(notes_page(params)["tex"])


def drill_page(params: dict) -> dict:
    """One drill problem: its prompt, and on request the hint, the steps, or the grading of
    an answer (the score itself is kept by the page, in the signed session cookie)."""
    from derivekit.study.drill import DRILL_TOPICS, DrillSession
    from derivekit.web.endpoints import RequestError, _text

    topic = params.get("topic") or None
    if topic is not None and topic not in DRILL_TOPICS:
        raise RequestError(f"unknown topic {topic!r}", hint="one of: " + ", ".join(DRILL_TOPICS))
    difficulty = int(number(params, "difficulty", 1))
    seed = int(number(params, "seed", 0))
    index = int(number(params, "n", 0))
    if difficulty not in (1, 2, 3) or not 0 <= index < 1000 or not 0 <= seed < 10**6:
        raise RequestError("difficulty is 1, 2 or 3; n from 0 to 999; seed from 0 to 999999")
    session = DrillSession(topic, difficulty, seed, index + 1)
    problem = session.problem(index)
    show = params.get("show")
    answer = params.get("answer")
    result = {"topics": list(DRILL_TOPICS), "topic": problem.topic, "difficulty": difficulty,
              "seed": seed, "n": index, "prompt": problem.prompt, "answer_form": problem.answer_form,
              "hint": problem.hint if show in ("hint", "steps") else None,
              "solution": problem.solution() if show == "steps" else None, "feedback": None}
    if answer:
        feedback = problem.check(_text("answer", answer))
        result["feedback"] = {"ok": feedback.ok, "message": feedback.message, "readable": feedback.readable}
    return result


EXTRAS = {
    "notes_page": notes_page,
    "drill_page": drill_page,
    "preview": preview,
    "derive_page": derive_page,
    "matgrad_page": matgrad_page,
    "derive_pdf": derive_pdf,
    "notes_pdf": notes_pdf,
    "descend_page": with_figure("descend", ".svg"),
    "gradflow_page": with_figure("gradflow"),
    "eig_page": with_figure("eig"),
    "pca_page": with_figure("pca"),
}
