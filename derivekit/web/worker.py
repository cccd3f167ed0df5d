"""What runs inside a worker process: one request's computation, under the deadline.

The parent sends ``(kind, name, params)`` and gets back ``{"status": int, "payload": dict}``.
A computation is the CLI command of its endpoint run with ``--format json`` (so the API's
schemas are the CLI's), or one of the page helpers in :data:`EXTRAS`. Errors come back as
``{"error", "hint", "position"}`` with the HTTP status the API answers with.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile

from derivekit.errors import DerivekitError, ParseError

DEADLINE_S = 8.0


def error_payload(message: str, hint: str | None = None, position: int | None = None) -> dict:
    return {"error": message, "hint": hint, "position": position}


def _status_of(exc: DerivekitError) -> int:
    """400 for input that cannot be read, 422 for readable input that cannot be computed."""
    from derivekit.web.endpoints import RequestError
    return 400 if isinstance(exc, (ParseError, RequestError)) else 422


def _usage_error(stderr: str) -> dict:
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    message = lines[-1] if lines else "the request could not be read"
    message = message.split("error: ", 1)[-1]
    hint = next((line.split("hint: ", 1)[1] for line in lines if "hint: " in line), None)
    return error_payload(message, hint or "see the parameter names in docs/web.md")


def run_cli_json(name: str, params: dict, extra: list[str] = (), output: str = "json") -> dict:
    """Run endpoint ``name``'s CLI command with ``--format json`` (and the server's own
    ``extra`` arguments); its parsed output."""
    from derivekit.cli.dispatch import build_parser
    from derivekit.web.endpoints import ENDPOINTS, argv_for, pca_source

    argv = list(extra) + argv_for(name, params, output)
    with contextlib.ExitStack() as stack:
        if name == "pca":
            data, csv = pca_source(params)
            if csv is not None:
                folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="derivekit-web-"))
                path = os.path.join(folder, "upload.csv")
                with open(path, "w", encoding="utf-8") as handle:
                    handle.write(csv)
                data = path
            argv.insert(0, f"--data={data or 'gaussian2d'}")
        parser, module = build_parser(ENDPOINTS[name].command)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                args = parser.parse_args(argv)
            except SystemExit:
                return {"status": 400, "payload": _usage_error(err.getvalue())}
            code = int(module.run(args))
    text = out.getvalue()
    if output != "json":
        return {"status": 200, "payload": {"output": text, "format": output, "exit_code": code}}
    try:
        payload = json.loads(text)
    except ValueError:
        return {"status": 422, "payload": error_payload(
            (err.getvalue() or text).strip() or "the computation gave no answer", None)}
    if isinstance(payload, dict):
        payload.setdefault("exit_code", code)
    return {"status": 200, "payload": payload}


def run_job(job: tuple) -> dict:
    """Run one job with every derivekit failure turned into an error payload."""
    from derivekit.limits import deadline

    kind, name, params = job
    try:
        with deadline(DEADLINE_S):
            if kind == "cli":
                return run_cli_json(name, params)
            if kind in ("text", "latex", "markdown"):
                return run_cli_json(name, params, output=kind)
            from derivekit.web.extras import EXTRAS, _Answered
            try:
                return {"status": 200, "payload": EXTRAS[name](params)}
            except _Answered as answered:
                return answered.answer
    except ParseError as exc:
        return {"status": 400, "payload": error_payload(
            exc.message, exc.hint, getattr(exc, "position", None))}
    except DerivekitError as exc:
        return {"status": _status_of(exc), "payload": error_payload(exc.message, exc.hint)}
    except RecursionError:
        return {"status": 422, "payload": error_payload(
            "the expression is nested too deeply to work with", "write it with fewer nested brackets")}
    except MemoryError:
        return {"status": 422, "payload": error_payload(
            "the computation needs more memory than a request may use", "try a smaller input")}
    except Exception as exc:  # noqa: BLE001 - a bug; the page says so instead of a traceback
        return {"status": 500, "payload": error_payload(
            f"internal error ({type(exc).__name__}); please report it", None)}


def serve(connection, memory_limit_bytes: int | None = None, niceness: int = 0) -> None:
    """A worker's loop: receive a job, send its answer, until the pipe closes."""
    import signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server, which stops us
    if niceness:
        try:
            os.nice(niceness)
        except OSError:
            pass
    if memory_limit_bytes:
        try:
            import resource
            resource.setrlimit(resource.RLIMIT_AS, (memory_limit_bytes, memory_limit_bytes))
        except (ImportError, ValueError, OSError):
            pass
    import derivekit.cli.calculus  # noqa: F401 - warm the imports before the first request
    import derivekit.parsing.parse  # noqa: F401
    connection.send("ready")
    while True:
        try:
            job = connection.recv()
        except (EOFError, OSError):
            return
        connection.send(run_job(job))
