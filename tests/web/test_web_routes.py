"""Route tests with Starlette's TestClient: pages, the JSON API, errors, headers, limits."""

import re
from html import unescape
from html.parser import HTMLParser
import xml.etree.ElementTree as ET
from urllib.parse import urlencode

import pytest

MATH = re.compile(r"<math\b.*?</math>", re.S)


def page(client, path, **params):
    return client.get(path + ("?" + urlencode(params) if params else ""))


def maths(html: str) -> list[str]:
    found = MATH.findall(html)
    for m in found:
        ET.fromstring(m)  # every MathML island is well-formed XML
    return found


def test_home_has_the_form_and_the_gallery(client):
    r = client.get("/")
    assert r.status_code == 200
    assert '<form class="card" action="/derive" method="get">' in r.text
    for label in ("σ(wx + b)", "tanh", "softmax", "BCE ∘ σ", "MSE", "x²", "dot product",
                  "eigenvalues", "PCA", "gradient-descent step"):
        assert label in r.text
    # every gallery link works and shows math
    links = re.findall(r'<ul class="gallery">(.*?)</ul>', r.text, re.S)[0]
    for href in re.findall(r'href="([^"]+)"', links):
        answer = client.get(href.replace("&amp;", "&"))
        assert answer.status_code == 200, (href, answer.text[-800:])
        assert maths(answer.text) or "<img" in answer.text, href


def test_derive_page_shows_steps_as_mathml_and_folds_substeps(client):
    r = page(client, "/derive", expr="sigmoid(w*x + b)", wrt="w")
    assert r.status_code == 200
    assert "Chain rule" in r.text and "Sigmoid rule" in r.text
    assert '<details class="substeps">' in r.text
    found = maths(r.text)
    assert len(found) >= 6
    assert any("σ" in m or "&#x003C3;" in m for m in found)
    assert "Result" in r.text and "<script>" not in r.text.split("</head>")[1]


def test_derive_page_draws_f_fprime_and_the_tangent(client):
    r = page(client, "/derive", expr="x^3", at="2")
    svg = re.search(r"<svg.*?</svg>", r.text, re.S).group(0)
    ET.fromstring(svg)
    assert svg.count("<path") == 3 and "tangent at x = 2" in svg
    assert "style=" not in svg  # presentation attributes only: the CSP allows them


@pytest.mark.parametrize("kind", ["gradient", "hessian", "jacobian"])
def test_derive_page_shows_matrices(client, kind):
    r = page(client, "/derive", expr="x^2*y; x + y" if kind == "jacobian" else "x^2*y", kind=kind)
    assert r.status_code == 200, r.text[-500:]
    assert "<mtable>" in r.text and '<details class="entry">' in r.text


def test_check_page_reads_the_diagnosis_of_a_wrong_claim(client):
    r = page(client, "/check", expr="x^2", claim="3*x", wrt="x")
    assert r.status_code == 200
    assert "Wrong" in r.text and "off by a constant factor" in r.text
    assert "Counterexample" in r.text and "The derivation" in r.text
    right = page(client, "/check", expr="x^2", claim="2*x", wrt="x")
    assert "Right" in right.text and "off by" not in right.text


def test_matrix_page_gradient_and_backprop_check(client):
    shapes = "W=3x4,x=4x1,b=3x1,y=3x1"
    r = page(client, "/matrix", mode="matgrad", loss="norm2(W@x + b - y)", wrt="W", shapes=shapes)
    assert r.status_code == 200 and "Backward pass" in r.text and "agrees" in r.text
    assert "&#x022A4;" in r.text or "⊤" in r.text  # the transpose
    wrong = page(client, "/matrix", mode="check-backprop", loss="norm2(W@x - y)", wrt="W",
                 shapes="W=3x4,x=4x1,y=3x1", claim="2*(W@x - y)@x")
    assert wrong.status_code in (200, 400, 422)
    assert "Wrong" in wrong.text or "Cannot answer" in wrong.text


def test_api_mirrors_the_cli_json(client, capsys):
    from derivekit.cli import main
    r = client.get("/api/derive", params={"expr": "sigmoid(w*x + b)", "wrt": "w"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    main(["diff", "sigmoid(w*x + b)", "--wrt", "w", "--format", "json"])
    import json
    cli = json.loads(capsys.readouterr().out)
    body = r.json()
    body.pop("exit_code")
    assert body == cli
    check = client.post("/api/check", json={"expr": "x^2", "claim": "3*x", "wrt": "x"})
    assert check.status_code == 200 and check.json()["ok"] is False
    assert check.json()["error_class"] == "constant_factor"
    grad = client.post("/api/check", json={"expr": "x*y", "claim": ["y", "x"], "wrt": "x,y"})
    assert grad.json()["ok"] is True


@pytest.mark.parametrize("path,params", [
    ("/api/grad", {"expr": "x^2*y", "wrt": "x,y"}),
    ("/api/jacobian", {"expr": "x*y; x + y", "wrt": "x,y"}),
    ("/api/hessian", {"expr": "x^2*y", "wrt": "x,y"}),
    ("/api/matgrad", {"loss": "norm2(W@x - y)", "wrt": "W", "shapes": "W=3x4,x=4x1,y=3x1"}),
    ("/api/check-backprop", {"loss": "norm2(W@x - y)", "wrt": "W", "shapes": "W=3x4,x=4x1,y=3x1",
                             "claim": "2*(W@x - y)@x.T"}),
    ("/api/descend", {"expr": "x^2 + 10*y^2", "start": "x=1,y=1", "method": "adam", "lr": 0.1, "steps": 30}),
    ("/api/eig", {"matrix": "[[2,1],[1,2]]"}),
    ("/api/pca", {"data": "gaussian2d", "k": 1}),
    ("/api/gradcheck", {"expr": "x^2*y", "wrt": "x,y", "claim": ["2*x*y", "x^2"]}),
    ("/api/transpose", {"matrix": "[[1,2,3],[4,5,6]]"}),
    ("/api/norm", {"x": "[3,4]", "kind": "2"}),
    ("/api/backprop", {"spec": "x:4 -> linear:8 -> sigmoid -> linear:1 -> mse"}),
    ("/api/gradflow", {"depth": 4, "width": 8}),
])
def test_every_api_endpoint_answers_json(client, path, params):
    r = client.post(path, json=params)
    assert r.status_code == 200, r.text
    assert isinstance(r.json(), dict) and "error" not in r.json()


@pytest.mark.parametrize("params,status,words", [
    ({"expr": "x^^2"}, 400, "position"),
    ({"expr": "x", "bogus": "1"}, 400, "unknown parameter"),
    ({"wrt": "x"}, 400, "missing parameter"),
    ({"expr": "2^2^2^2^2^2^2"}, 400, "exponent"),
    ({"expr": "x", "order": "many"}, 400, "order"),
    ({"expr": "x*y"}, 422, "--wrt"),
])
def test_api_errors_are_json_with_error_hint_position(client, params, status, words):
    r = client.get("/api/derive", params=params)
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error", "hint", "position"}
    assert words in r.text


def test_the_parse_error_says_where(client):
    body = client.get("/api/derive", params={"expr": "x^^2"}).json()
    assert body["position"] == 2 and body["hint"]


def test_bad_bodies(client):
    assert client.post("/api/derive", content=b"{not json", headers={"content-type": "application/json"}
                       ).status_code == 400
    assert client.post("/api/derive", json=["x"]).status_code == 400
    big = client.post("/api/derive", content=b"x" * (100 * 1024), headers={"content-type": "application/json"})
    assert big.status_code == 413 and set(big.json()) == {"error", "hint", "position"}
    long_query = client.get("/api/derive?expr=" + "x%2B" * 10_000)
    assert long_query.status_code == 413
    assert client.get("/api/nothing").status_code == 404


def test_headers_csp_and_nosniff_everywhere(client):
    for path in ("/", "/derive?expr=x", "/api/derive?expr=x", "/static/style.css", "/api/derive?expr=%5E"):
        r = client.get(path)
        csp = r.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp and "unsafe" not in csp
        assert r.headers["x-content-type-options"] == "nosniff"


def test_nothing_is_loaded_from_another_origin(client):
    for path in ("/", "/derive?expr=sigmoid(x)", "/check?expr=x&claim=1&wrt=x", "/linalg?op=eig&matrix=[[1,2],[2,1]]"):
        html = client.get(path).text
        for url in re.findall(r'(?:src|href)="([^"]+)"', html):
            assert url.startswith(("/", "?", "#", "data:image/")), url


class _Elements(HTMLParser):
    """Every (tag, attributes) the browser would build from a page."""

    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def elements(html: str) -> list[tuple[str, dict]]:
    parser = _Elements()
    parser.feed(html)
    return parser.found


@pytest.mark.parametrize("payload", [
    "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "__import__('os').system('id')",
    "{{7*7}}", "\\text{<script>alert(1)</script>}", "x\" onmouseover=\"alert(1)",
])
def test_injection_is_escaped_and_never_run(client, payload):
    for path in ("/derive", "/check"):
        r = page(client, path, expr=payload, claim=payload, wrt="x")
        assert r.status_code in (200, 400, 422)
        for tag, attrs in elements(r.text):
            assert not any(name.startswith("on") for name in attrs), (tag, attrs)
            assert tag != "script" or attrs == {"src": "/static/app.js", "defer": None}
            assert tag != "img" or attrs.get("src", "").startswith("data:image/")
        assert payload in unescape(r.text)  # shown back as text, escaped
        assert "{{7*7}}" not in payload or ">49<" not in r.text
    api = client.get("/api/derive", params={"expr": payload})
    assert api.status_code in (400, 422) and set(api.json()) == {"error", "hint", "position"}


def test_no_request_can_name_a_path(client):
    r = client.get("/api/pca", params={"data": "/etc/passwd"})
    assert r.status_code == 400 and "unknown dataset" in r.json()["error"]
    r = client.get("/api/descend", params={"expr": "x^2", "plot": "/tmp/evil.svg"})
    assert r.status_code == 400 and "unknown parameter 'plot'" in r.json()["error"]
    r = client.get("/static/../app.py")
    assert r.status_code == 404


def test_pca_takes_an_uploaded_csv(client):
    csv = "a,b\n" + "\n".join(f"{i},{2 * i + (i % 3)}" for i in range(20)) + "\n"
    r = client.post("/linalg?op=pca", files={"csv": ("/etc/passwd", csv, "text/csv")}, data={"k": "1"})
    assert r.status_code == 200, r.text[-800:]
    assert "explained" in r.text.lower()
    big = client.post("/linalg?op=pca", files={"csv": ("x.csv", "1,2\n" * 30_000, "text/csv")})
    assert big.status_code == 413


def test_export_and_preview(client):
    tex = client.get("/export/derivation.tex", params={"expr": "x^2", "wrt": "x"})
    assert tex.status_code == 200 and "\\frac" in tex.text and "attachment" in tex.headers["content-disposition"]
    md = client.get("/export/derivation.md", params={"expr": "x^2", "wrt": "x"})
    assert "Power rule" in md.text
    preview = client.get("/preview", params={"expr": "sigmoid(w*x)"})
    assert preview.text.startswith("<math") and "&#x003C3;" in preview.text or "σ" in preview.text
    assert "wrong" in client.get("/preview", params={"expr": "x^^"}).text


def test_descend_linalg_and_gradient_flow_pages(client):
    r = page(client, "/descend", expr="x^2 + 10*y^2", start="x=1,y=1", method="gd", lr="0.05", steps="20")
    assert r.status_code == 200 and 'src="data:image/svg+xml;base64,' in r.text
    assert "Worked updates" in r.text
    diverged = page(client, "/descend", expr="x^2", start="x=1", method="gd", lr="1.5", steps="50")
    assert "Diverged" in diverged.text
    for op, params in (("dot", {"u": "[1,2,3]", "v": "[4,5,6]"}), ("det", {"matrix": "[[1,2],[3,4]]"}),
                       ("inv", {"matrix": "[[1,2],[3,4]]"}), ("rank", {"matrix": "[[1,2],[2,4]]"}),
                       ("matmul", {"a": "[[1,2],[3,4]]", "b": "[[5],[6]]"}),
                       ("transpose", {"matrix": "[[1,2,3],[4,5,6]]"}), ("norm", {"x": "[3,4]"})):
        r = page(client, "/linalg", op=op, **params)
        assert r.status_code == 200 and maths(r.text), op
    flow = page(client, "/matrix", mode="gradflow", run="1", depth="4", width="8")
    assert flow.status_code == 200 and 'src="data:image/png;base64,' in flow.text


def test_drill_grades_and_keeps_the_score_in_a_signed_cookie(client):
    from starlette.testclient import TestClient
    fresh = TestClient(client.app)  # its own cookie jar
    first = fresh.get("/drill", params={"topic": "chain_rule", "seed": "1"})
    assert first.status_code == 200 and "Problem 1" in first.text and "(3*x + 5)^3" in first.text
    right = fresh.get("/drill", params={"topic": "chain_rule", "seed": "1", "answer": "9*(3*x + 5)^2"})
    assert "Correct." in right.text and "1/1" in right.text
    wrong = fresh.get("/drill", params={"topic": "chain_rule", "seed": "1", "n": "1", "answer": "x"})
    assert "1/2" in wrong.text and "Correct." not in wrong.text
    again = fresh.get("/drill", params={"topic": "chain_rule", "seed": "1", "n": "1", "answer": "x"})
    assert "1/2" in again.text  # the same problem counts once
    steps = fresh.get("/drill", params={"topic": "chain_rule", "seed": "1", "show": "steps"})
    assert "Hint:" in steps.text and "Chain rule" in steps.text
    cookie = fresh.cookies.get("derivekit_drill")
    fresh.cookies.set("derivekit_drill", cookie[:-4] + "AAAA")  # a forged cookie is ignored
    assert "0/0" in fresh.get("/drill").text
    assert fresh.get("/drill", params={"topic": "nope"}).status_code == 400


def test_notes_preview_and_downloads(client):
    text = "# Sigmoid\n\nThe logistic $\\sigma$ is **smooth**.\n\n```derivekit\nderivative: sigmoid(w*x + b)\nwrt: w\n```\n"
    r = client.post("/notes", data={"text": text})
    assert r.status_code == 200 and "<strong>smooth</strong>" in r.text
    assert len(maths(r.text)) >= 3 and "Chain rule" in r.text
    tex = client.post("/notes", data={"text": text, "download": "tex"})
    assert tex.text.startswith("\\documentclass") and "attachment" in tex.headers["content-disposition"]
    md = client.post("/notes", data={"text": text, "download": "md"})
    assert md.text.startswith("# Sigmoid")
    bad = client.post("/notes", data={"text": "```derivekit\nderive: x\n```\n"})
    assert bad.status_code in (400, 422) and "did you mean" in bad.text
    evil = client.post("/notes", data={"text": "<script>alert(1)</script>\n\n$\\text{<img src=x onerror=alert(1)>}$"})
    for tag, attrs in elements(evil.text):
        assert tag != "img" and not any(name.startswith("on") for name in attrs)


def test_a_repeated_request_is_answered_from_the_cache(client, monkeypatch):
    first = client.get("/api/derive", params={"expr": "tanh(3*x)", "wrt": "x"})
    pool = client.app.state.pool
    monkeypatch.setattr(pool, "queue_limit", -1)  # no worker may run now
    again = client.get("/api/derive", params={"expr": "tanh(3*x)", "wrt": "x"})
    assert first.status_code == again.status_code == 200 and first.json() == again.json()
    assert client.get("/api/derive", params={"expr": "tanh(4*x)", "wrt": "x"}).status_code == 503


def test_a_streamed_body_over_the_cap_is_refused_without_a_500(client):
    def chunks():
        for _ in range(20):
            yield b"x" * 8192
    for path, ctype in (("/api/derive", "application/json"),
                        ("/linalg?op=pca", "multipart/form-data; boundary=xyz")):
        r = client.post(path, content=chunks(), headers={"content-type": ctype})
        assert r.status_code == 413 and r.json()["error"].startswith("the request body is over")
    broken = client.post("/linalg?op=pca", content=b"--xyz\r\nbroken",
                         headers={"content-type": "multipart/form-data; boundary=xyz"})
    assert broken.status_code < 500
