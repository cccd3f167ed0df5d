"""The matrix page and API for Jacobians and Hessians: the What select, the Assume field,
the rendering of each kind, claim checks, and hostile values (an error box, never a 500)."""

import json
import random
import re
import xml.etree.ElementTree as ET
from html import unescape
from urllib.parse import urlencode

import pytest

MATH = re.compile(r"<math\b.*?</math>", re.DOTALL)
SOFTMAX = {"loss": "softmax(z)", "wrt": "z", "shapes": "z: 4x1"}
SOFTMAX_JACOBIAN = "diag(softmax(z)) - softmax(z)@softmax(z).T"
LOGISTIC = {"loss": "sum(log(1 + exp(X@w))) - y.T@X@w", "wrt": "w", "shapes": "X: 5x3, w: 3x1, y: 5x1"}


def page(client, **params):
    return client.get("/matrix?" + urlencode(params))


def answer(html: str) -> str:
    """The answer section only (the form echoes the inputs back)."""
    return html.split("</form>", 1)[1]


def maths(html: str) -> list[str]:
    found = MATH.findall(html)
    for m in found:
        ET.fromstring(m)  # well-formed MathML
    return found


def verdict(html: str) -> str:
    return re.search(r'<h2 class="verdict-line">(.*?)</h2>', html).group(1)


def cli_json(capsys, argv: list[str]) -> tuple[int, dict]:
    from derivekit.cli import main
    capsys.readouterr()
    code = main(argv + ["--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def test_the_form_offers_gradient_jacobian_hessian_and_assume(client):
    for mode in ("matgrad", "check-backprop"):
        html = page(client, mode=mode).text
        select = re.search(r'<select name="what">(.*?)</select>', html, re.DOTALL).group(1)
        assert re.findall(r'<option value="(\w+)"', select) == ["gradient", "jacobian", "hessian"]
        assert '<input name="assume"' in html
    chosen = page(client, mode="check-backprop", what="hessian").text
    assert '<option value="hessian" selected>' in chosen and "Your Hessian" in chosen
    # a URL with the CLI's flag selects it as well
    assert '<option value="jacobian" selected>' in page(client, mode="matgrad", jacobian="1").text


def test_a_jacobian_shows_its_heading_result_rules_and_check(client):
    r = page(client, mode="matgrad", what="jacobian", **SOFTMAX)
    assert r.status_code == 200, r.text[-600:]
    body = answer(r.text)
    assert "<h2>Jacobian</h2>" in body and "4×4" in body
    assert len(maths(body)) >= 1 and "diag" in body and "softmax" in body
    assert "J(softmax(u)) = (diag(s) − ssᵀ) J(u)" in unescape(body)
    assert "Checked against central differences" in body and "agrees" in body
    assert SOFTMAX_JACOBIAN.replace("@", " @ ") in unescape(body)  # the NumPy spelling to paste


def test_a_hessian_shows_the_gradient_and_the_tidying_moves(client):
    r = page(client, mode="matgrad", what="hessian", **LOGISTIC)
    assert r.status_code == 200, r.text[-600:]
    body = unescape(answer(r.text))
    assert "<h2>Hessian</h2>" in body and "3×3" in body and "<h3>Gradient</h3>" in body
    assert "Textbook form" in body and "σ′ written out" in body and "in the gradient" in body
    assert len(maths(answer(r.text))) >= 4  # the result, the gradient and each move's two sides
    assert "agrees" in body


def test_a_hessian_by_a_matrix_with_an_assumption_is_a_kronecker_form(client):
    r = page(client, mode="matgrad", what="hessian", loss="trace(X.T@A@X)", wrt="X",
             shapes="X: 3x2, A: 3x3", assume="A: symmetric")
    assert r.status_code == 200, r.text[-600:]
    body = unescape(answer(r.text))
    assert "6×6, assuming A is symmetric" in body and "declared symmetric" in body
    assert "vec" in body and ("⊗" in body or "&#x02297;" in answer(r.text))


def test_the_gradient_page_now_lists_its_tidying_moves(client):
    r = page(client, mode="matgrad", loss="sqrt(trace(X.T@X))", wrt="X", shapes="X=3x2")
    body = unescape(answer(r.text))
    assert "<h2>Gradient</h2>" in body and "Textbook form" in body and "reciprocal as division" in body


def test_claims_of_a_jacobian_right_and_wrong(client):
    right = page(client, mode="check-backprop", what="jacobian", claim=SOFTMAX_JACOBIAN, **SOFTMAX)
    assert right.status_code == 200 and verdict(right.text) == "Right"
    assert "matches the Jacobian" in right.text
    wrong = page(client, mode="check-backprop", what="jacobian",
                 claim="diag(softmax(z)) - 2*softmax(z)@softmax(z).T", **SOFTMAX)
    assert wrong.status_code == 200 and verdict(wrong.text) == "Wrong"
    body = unescape(answer(wrong.text))
    assert "extra factor 2" in body and "Expected Jacobian" in body and "Fix:" in body
    assert "Counterexample" in body and body.count('<table class="grid">') == 3  # z, claimed, expected


def test_a_hessian_claim_needs_the_declared_symmetry(client):
    params = {"mode": "check-backprop", "what": "hessian", "loss": "x.T@A@x", "wrt": "x",
              "shapes": "x: 3x1, A: 3x3", "claim": "2*A"}
    wrong = page(client, **params)
    assert verdict(wrong.text) == "Wrong" and "symmetric" in wrong.text
    assert "write the assumption in the Assume field" in wrong.text  # the CLI's --assume, on the page
    right = page(client, assume="A: symmetric", **params)
    assert verdict(right.text) == "Right" and "assuming A is symmetric" in right.text


def test_the_api_takes_the_flags_and_assume_and_mirrors_the_cli(client, capsys):
    r = client.post("/api/check-backprop", json={**SOFTMAX, "jacobian": True,
                                                 "claim": "diag(softmax(z)) - 2*softmax(z)@softmax(z).T"})
    code, cli = cli_json(capsys, ["check-backprop", "softmax(z)", "--wrt", "z", "--shapes", "z: 4x1",
                                  "--jacobian", "--claim", "diag(softmax(z)) - 2*softmax(z)@softmax(z).T"])
    body = r.json()
    assert r.status_code == 200 and body.pop("exit_code") == code == 1
    assert body == cli and body["kind"] == "jacobian" and body["ok"] is False
    r = client.get("/api/matgrad", params={"loss": "x.T@A@x", "wrt": "x", "shapes": "x: 3x1, A: 3x3",
                                           "hessian": "on", "assume": "A: symmetric"})
    assert r.status_code == 200, r.text
    assert r.json()["result"]["text"] == "2A" and r.json()["assumptions"] == {"A": "symmetric"}


@pytest.mark.parametrize("params,status,words", [
    ({"what": "bogus"}, 400, "unknown choice 'bogus' for What"),
    ({"what": ["jacobian", "hessian"]}, 400, "unknown choice"),
    ({"jacobian": "1", "hessian": "1"}, 400, "not allowed with"),
    ({"what": "hessian", "assume": "A: weird"}, 422, "unknown assumption 'weird'"),
    ({"what": "hessian", "assume": "A symmetric"}, 422, "cannot read the assumption"),
    ({"what": "hessian", "assume": "Q: symmetric"}, 422, "names no input"),
    ({"what": "hessian", "assume": "x" * 20_001}, 400, "characters long"),
    ({"what": "hessian", "assume": "A: sym\x00metric"}, 400, "NUL"),
    ({"what": "hessian", "assume": "<script>alert(1)</script>: symmetric"}, 422, "assumption"),
    ({"what": "jacobian", "wrt": "A"}, 422, "column vector"),
])
def test_bad_values_are_an_error_box_never_a_500(client, params, status, words):
    base = {"mode": "matgrad", "loss": "x.T@A@x", "wrt": "x", "shapes": "x: 3x1, A: 3x3", **params}
    r = client.get("/matrix?" + urlencode(base, doseq=True))
    assert r.status_code == status, r.text[-600:]
    assert 'class="error" role="alert"' in r.text and words in unescape(r.text)
    assert "<script>alert" not in r.text
    if words == "cannot read the assumption":  # its hint names the CLI's --assume
        assert "write the assumption in the Assume field" in r.text


def test_the_api_refuses_both_flags_and_an_unknown_what(client):
    both = client.post("/api/matgrad", json={**SOFTMAX, "jacobian": True, "hessian": True})
    assert both.status_code == 400 and "not allowed with" in both.json()["error"]
    what = client.post("/api/check-backprop", json={**SOFTMAX, "what": "jacobian", "claim": "z"})
    assert what.status_code == 400 and "unknown parameter 'what'" in what.json()["error"]


TERMS = ["diag(softmax(z))", "softmax(z)@softmax(z).T", "softmax(z)@softmax(z).T.T", "diag(z)",
         "z@softmax(z).T", "diag(exp(z))", "diag(sqrt(z))"]


def random_claims(seed: int, count: int):
    """Seeded sums and differences of Jacobian-shaped terms: right ones, wrong ones, and ones
    not finite at random inputs (sqrt of a negative entry), which cannot be checked."""
    rng = random.Random(seed)
    claims = [SOFTMAX_JACOBIAN, "-softmax(z)@softmax(z).T + diag(softmax(z))", "diag(sqrt(z))"]
    while len(claims) < count:
        terms = rng.sample(TERMS, rng.randint(1, 3))
        text = terms[0]
        for term in terms[1:]:
            text += rng.choice([" - ", " + "]) + rng.choice(["", "2*", "0.5*"]) + term
        claims.append(text)
    return claims


@pytest.mark.parametrize("claim", random_claims(16, 10))
def test_random_jacobian_claims_get_the_cli_verdict_on_the_page(client, capsys, claim):
    r = page(client, mode="check-backprop", what="jacobian", claim=claim, **SOFTMAX)
    code, cli = cli_json(capsys, ["check-backprop", "softmax(z)", "--wrt", "z", "--shapes", "z: 4x1",
                                  "--jacobian", "--claim", claim])
    assert r.status_code == 200, r.text[-600:]
    expected = "Right" if cli["ok"] else ("Wrong" if cli["checked"] else "Cannot check")
    assert verdict(r.text) == expected and code == (0 if cli["ok"] else 1 if cli["checked"] else 2)
    assert unescape(cli["diagnosis"]) in unescape(r.text)
