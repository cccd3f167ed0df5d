"""The web page's speed budget (issue 13), against references measured in the same run.

    python benchmarks/bench_web.py [--repeat 30]

1. Server time of README's example page, ``/derive?expr=sigmoid(w*x+b)&wrt=w``, warm: the
   first request (a worker computes it) and repeats with a new constant each time (computed,
   not cached), and a repeat of the same URL (answered from the cache). The reference is the
   same derivation computed and rendered in-process, with no server.
2. The page's weight without images (HTML + CSS + JS), budget 100 KB.
3. Whether first paint needs a script: the page's math is MathML in the HTML itself.

Runs the ASGI app in-process through Starlette's TestClient, so the times are the server's
own (no network). Prints Markdown for docs/benchmarks.md; nothing here is asserted by tests.
"""

from __future__ import annotations

import argparse
import statistics
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=30)
    repeat = parser.parse_args().repeat

    from starlette.testclient import TestClient

    import derivekit as dk
    from derivekit.web import create_app

    def reference(i: int) -> float:
        t0 = time.perf_counter()
        dk.derive(dk.parse(f"sigmoid(w*x + b) + {i}*x"), "w").render("json")
        return time.perf_counter() - t0

    with TestClient(create_app(workers=1, light_workers=1)) as client:
        t0 = time.perf_counter()
        first = client.get("/derive", params={"expr": "sigmoid(w*x + b)", "wrt": "w"})
        cold = time.perf_counter() - t0
        computed, cached = [], []
        for i in range(repeat):
            t0 = time.perf_counter()
            client.get("/derive", params={"expr": f"sigmoid(w*x + b) + {i + 1}*x", "wrt": "w"})
            computed.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            client.get("/derive", params={"expr": "sigmoid(w*x + b)", "wrt": "w"})
            cached.append(time.perf_counter() - t0)
        css = client.get("/static/style.css").content
        js = client.get("/static/app.js").content
    for i in range(3):
        reference(-i - 1)  # warm the in-process route as the worker is warm
    ref = [reference(i + 1) for i in range(repeat)]
    html = first.content
    weight = len(html) + len(css) + len(js)
    ms = lambda xs: f"{1000 * statistics.median(xs):.1f} ms (best {1000 * min(xs):.1f})"  # noqa: E731
    print("| measure | value |\n|---|---|")
    print(f"| first request (includes starting the worker process) | {1000 * cold:.0f} ms |")
    print(f"| warm, computed by a worker (median of {repeat}) | {ms(computed)} |")
    print(f"| warm, same URL again (cache) | {ms(cached)} |")
    print(f"| reference: derive + render in-process, no server | {ms(ref)} |")
    print(f"| computed page / reference | {statistics.median(computed) / statistics.median(ref):.2f}× |")
    print(f"| page weight without images (HTML {len(html)} + CSS {len(css)} + JS {len(js)} B) | "
          f"{weight / 1024:.1f} KB |")
    print(f"| MathML islands in the HTML (first paint needs no script) | {html.count(b'<math')} |")


if __name__ == "__main__":
    main()
