"""Reading a request's parameters and running its computation in the pool.

Shared by the pages and the API: parameters come from the query string (GET, so a page's
URL reproduces it) or a POST body (JSON object, form, or one CSV upload whose *text* is
used - a file name is never read); the job's answer is ``(status, payload)``.
"""

from __future__ import annotations

import json
from collections import OrderedDict

from starlette.requests import Request
from starlette.responses import JSONResponse

from derivekit.web.endpoints import MAX_LIST_ITEMS
from derivekit.web.pool import Overloaded, TimedOut, WorkerPool

MAX_UPLOAD = 48 * 1024  # a CSV for PCA; the body cap holds it and the form around it


class BadRequest(Exception):
    def __init__(self, status: int, message: str, hint: str | None = None):
        super().__init__(message)
        self.status, self.message, self.hint = status, message, hint


def error_json(status: int, message: str, hint: str | None = None, position=None, **headers):
    return JSONResponse({"error": message, "hint": hint, "position": position}, status_code=status,
                        headers=headers or None)


def _add(params: dict, key: str, value) -> None:
    if key in params:
        old = params[key]
        params[key] = (old if isinstance(old, list) else [old]) + [value]
        if len(params[key]) > MAX_LIST_ITEMS:
            raise BadRequest(400, f"parameter {key!r} is repeated more than {MAX_LIST_ITEMS} times")
    else:
        params[key] = value


async def request_params(request: Request) -> dict:
    """The query string, plus a JSON object, form or CSV upload in a POST body."""
    params: dict = {}
    for key, value in request.query_params.multi_items():
        _add(params, key, value)
    if request.method != "POST":
        return params
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("application/json"):
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError as exc:
            raise BadRequest(400, f"the body is not valid JSON ({exc})",
                             'send an object, e.g. {"expr": "x^2", "wrt": "x"}') from None
        if not isinstance(body, dict):
            raise BadRequest(400, "the JSON body must be an object",
                             'e.g. {"expr": "x^2", "wrt": "x"}')
        params.update(body)
    elif ctype.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        form = await request.form(max_files=1, max_fields=60)
        for key, value in form.multi_items():
            if hasattr(value, "read"):  # an uploaded file: its text, never its name
                data = await value.read(MAX_UPLOAD + 1)
                if len(data) > MAX_UPLOAD:
                    raise BadRequest(413, f"the uploaded file is over {MAX_UPLOAD // 1024} KB",
                                     "upload a smaller CSV")
                if data:
                    try:
                        params[key] = data.decode("utf-8")
                    except UnicodeDecodeError:
                        raise BadRequest(400, "the uploaded file is not UTF-8 text",
                                         "upload a CSV text file") from None
            else:
                _add(params, key, value)
    elif await request.body():
        raise BadRequest(400, f"cannot read a body of type {ctype or 'unknown'}",
                         "send application/json")
    return params


CACHE_SIZE = 128


def _cache_key(job: tuple) -> str | None:
    key = json.dumps(job, sort_keys=True, default=str)
    return key if len(key) <= 4096 else None


async def compute(request: Request, job: tuple, cache: bool = True) -> tuple[int, dict]:
    """(status, payload) of ``job`` run in the pool; overload and deadline as error payloads.

    Every job is deterministic (random points come from seeds), so the last CACHE_SIZE
    successful answers are kept and a repeated request (a shared URL) costs no worker;
    ``cache=False`` for large answers (a PDF), which would make the cache's memory unbounded."""
    pool: WorkerPool = request.app.state.pool
    _cache: OrderedDict = request.app.state.cache
    key = _cache_key(job) if cache else None
    if key is not None and key in _cache:
        _cache.move_to_end(key)
        return 200, _cache[key]
    try:
        answer = await pool.run(job)
    except Overloaded:
        return 503, {"error": "the server is busy", "hint": "try again in a moment", "position": None}
    except TimedOut:
        return 422, {"error": f"the computation ran past its deadline ({pool.hard_deadline_s:g} s)",
                     "hint": "simplify the input", "position": None}
    if answer["status"] == 200 and key is not None:
        _cache[key] = answer["payload"]
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return answer["status"], answer["payload"]
