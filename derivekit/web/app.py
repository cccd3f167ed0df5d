"""The ASGI application: pages, the JSON API and static files, over one worker pool.

Every computation goes to :class:`~derivekit.web.pool.WorkerPool`; this process only reads
requests, renders templates and converts LaTeX to MathML. Pages are GET forms, so a URL
reproduces its result; the API mirrors the CLI's ``--format json`` (docs/web.md).
"""

from __future__ import annotations

import contextlib
import secrets
from collections import OrderedDict
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from derivekit.web import pages
from derivekit.web.endpoints import ENDPOINTS
from derivekit.web.inputs import BadRequest, compute, error_json, request_params
from derivekit.web.pool import Lanes, WorkerPool
from derivekit.web.security import Guard

HERE = Path(__file__).resolve().parent
MAX_BODY = 64 * 1024

# API path -> (job kind, job name); every endpoint is also reachable under its own name
API = {name: ("cli", name) for name in ENDPOINTS}
API["descend"] = ("cli", "descend")


async def api(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in API:
        return error_json(404, f"no API endpoint {name!r}", "one of: " + ", ".join(sorted(API)))
    try:
        params = await request_params(request)
    except BadRequest as exc:
        return error_json(exc.status, exc.message, exc.hint)
    params.pop("format", None)
    status, payload = await compute(request, API[name] + (params,))
    headers = {"Retry-After": "1"} if status == 503 else None
    return JSONResponse(payload, status_code=status, headers=headers)


async def health(request: Request) -> Response:
    return PlainTextResponse("ok")


def create_app(workers: int = 2, queue: int = 16, hard_deadline_s: float = 10.0,
               light_workers: int = 1, secret: str | None = None) -> Starlette:
    """The web application: ``workers`` processes with ``queue`` waiting places for any job,
    and ``light_workers`` more (0: none) that take only cheap-looking jobs (pool.Lanes)."""
    pool = WorkerPool(size=workers, queue=queue, hard_deadline_s=hard_deadline_s,
                      niceness=10 if light_workers else 0)
    if light_workers:
        pool = Lanes(pool, WorkerPool(size=light_workers, queue=16 * light_workers, hard_deadline_s=2.0))

    @contextlib.asynccontextmanager
    async def lifespan(app):
        await pool.start()
        try:
            yield
        finally:
            await pool.close()

    routes = [
        *pages.routes(),
        Route("/api/{name}", api, methods=["GET", "POST"]),
        Route("/healthz", health),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, middleware=[
        Middleware(Guard, max_body=MAX_BODY),
        Middleware(SessionMiddleware, secret_key=secret or secrets.token_hex(32),
                   session_cookie="derivekit_drill", same_site="strict", https_only=False),
    ])
    app.state.pool = pool
    app.state.cache = OrderedDict()  # recent answers (inputs.compute)
    return app
