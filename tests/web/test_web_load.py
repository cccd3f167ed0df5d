"""Load on loopback: 200 requests at concurrency 20, light ones mixed with pathological ones
(power towers, deep nesting, 100 KB bodies, injection payloads, jobs past the deadline).

No 500s, every answer JSON in the error schema or a result, the server's memory bounded, and
the light requests' p95 latency *reported* (printed, and written to $DERIVEKIT_LOAD_REPORT
when set): wall-clock numbers are never asserted. Slow: run with ``pytest -m slow``.
"""

import json
import os
import random
import statistics
import time

import pytest

httpx = pytest.importorskip("httpx")
import asyncio  # noqa: E402

LIGHT = [("GET", "/api/derive", {"expr": "sigmoid(w*x + b)", "wrt": "w"}),
         ("GET", "/api/derive", {"expr": "x^2", "wrt": "x"}),
         ("GET", "/api/grad", {"expr": "x^2*y", "wrt": "x,y"}),
         ("GET", "/", None)]
HEAVY = [
    ("GET", "/api/derive", {"expr": "x^x^x^x^x^x^x^x"}),
    ("GET", "/api/derive", {"expr": "(" * 150 + "x" + ")" * 150}),
    ("GET", "/api/derive", {"expr": "sin(" * 120 + "x" + ")" * 120}),
    ("GET", "/api/derive", {"expr": "2^2^2^2^2^2^2^2"}),
    ("POST", "/api/derive", "x" * (100 * 1024)),
    ("POST", "/api/check", {"expr": "x" * 19_000, "claim": "1", "wrt": "x"}),
    ("GET", "/api/derive", {"expr": "__import__('os').system('touch /tmp/derivekit-pwned')"}),
    ("GET", "/derive", {"expr": "<script>alert(1)</script>", "wrt": "x"}),
    ("GET", "/api/derive", {"expr": "\\frac{" * 40 + "x" + "}{2}" * 40}),
    ("GET", "/api/descend", {"expr": "x^4 + y^4", "start": "x=1,y=1", "lr": "1e-7", "steps": "1000000"}),
    ("GET", "/api/derive", {"expr": "sigmoid(x)*tanh(x)*exp(sin(x))", "order": "12"}),
]


async def _one(client, method, path, params):
    started = time.perf_counter()
    if method == "POST" and isinstance(params, str):
        r = await client.post(path, content=params.encode(), headers={"content-type": "application/json"})
    elif method == "POST":
        r = await client.post(path, json=params)
    else:
        r = await client.get(path, params=params)
    return path, params, r, time.perf_counter() - started


def _rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and its children (the workers), in MB."""
    total = 0.0
    pids = [pid]
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            pids += [int(p) for p in handle.read().split()]
    except OSError:
        pass
    for one in pids:
        try:
            with open(f"/proc/{one}/status") as handle:
                total += next((int(line.split()[1]) / 1024 for line in handle if line.startswith("VmRSS:")), 0)
        except OSError:
            pass
    return total


@pytest.fixture(scope="module")
def server_process():
    """``derivekit serve`` as its own process on a free loopback port (so the client's work
    does not share the server's interpreter); yields (url, pid)."""
    import socket
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(root) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    process = subprocess.Popen([sys.executable, "-m", "derivekit", "serve", "--port", str(port),
                                "--workers", "2", "--queue", "24"], cwd=root, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(1200):
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("derivekit serve did not start")
    httpx.get(url + "/api/derive", params={"expr": "x^2"}, timeout=120)  # the workers are up
    yield url, process.pid
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.mark.slow
def test_200_requests_at_concurrency_20(server_process):
    live_server, pid = server_process
    rng = random.Random(7)
    def light(i):  # a new constant each time, so that no light request is answered from the cache
        method, path, params = rng.choice(LIGHT)
        if params and "expr" in params:
            params = {**params, "expr": f"{params['expr']} + {i}*x"}
        return method, path, params
    plan = [(rng.choice(HEAVY), "heavy") if rng.random() < 0.3 else (light(i), "light")
            for i in range(200)]
    if os.path.exists("/tmp/derivekit-pwned"):
        os.remove("/tmp/derivekit-pwned")
    rss_before = _rss_mb(pid)

    async def run():
        limits = httpx.Limits(max_connections=20)
        async with httpx.AsyncClient(base_url=live_server, timeout=120, limits=limits) as client:
            gate = asyncio.Semaphore(20)

            async def guarded(job):
                (method, path, params), kind = job
                async with gate:
                    return kind, await _one(client, method, path, params)
            return await asyncio.gather(*(guarded(job) for job in plan))

    results = asyncio.run(run())
    statuses = {}
    light = []
    for kind, (path, params, r, seconds) in results:
        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
        assert r.status_code < 500 or r.status_code == 503, (path, str(params)[:80], r.text[:300])
        if path.startswith("/api/") and r.status_code != 200:
            assert set(r.json()) == {"error", "hint", "position"}, r.text[:300]
        if kind == "light":
            light.append(seconds)
    assert not os.path.exists("/tmp/derivekit-pwned"), "a payload was executed"
    light.sort()
    p95 = light[int(0.95 * (len(light) - 1))]
    report = {"requests": len(results), "statuses": statuses, "light": len(light),
              "light_median_s": round(statistics.median(light), 3), "light_p95_s": round(p95, 3),
              "server_rss_before_mb": round(rss_before, 1), "server_rss_after_mb": round(_rss_mb(pid), 1)}
    print("\nload report:", json.dumps(report))
    if os.environ.get("DERIVEKIT_LOAD_REPORT"):
        with open(os.environ["DERIVEKIT_LOAD_REPORT"], "w") as handle:
            json.dump(report, handle, indent=2)
    assert statuses.get(200, 0) >= len(light) // 2  # the light ones mostly got through
    assert report["server_rss_after_mb"] < rss_before + 1500  # server and workers stay bounded
