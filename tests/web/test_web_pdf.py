"""PDF downloads on /derive and /notes: compiled in a worker by the hardened
``latexdoc.compile_pdf`` (a real engine: pdflatex is installed here and in CI), capped in
size, and hostile notes refused with a 422 before anything is compiled."""

import shutil

import pytest

from derivekit.errors import DerivekitError

needs_tex = pytest.mark.skipif(shutil.which("pdflatex") is None and shutil.which("latexmk") is None,
                               reason="no TeX engine installed")

NOTES = "# Sigmoid\n\nThe logistic $\\sigma$ is smooth.\n\n```derivekit\nderivative: sigmoid(w*x + b)\nwrt: w\n```\n"
# commands that read, write, run or redefine; each must be refused wherever notes math allows
HOSTILE = ["\\input{/etc/passwd}", "\\include{/etc/passwd}", "\\openin5=/etc/passwd",
           "\\immediate\\write18{id}", "\\write18{id}", "\\def\\x{1}", "\\catcode`\\@=11",
           "\\csname input\\endcsname{/etc/passwd}", "\\usepackage{shellesc}", "\\read16 to \\x",
           "\\newcommand{\\x}{\\input{/etc/passwd}}", "\\text{\\input{/etc/passwd}}"]
PLACES = ["${}$", "$$ {} $$", "before $a + {}$ after", "## Title ${}$\n\ntext"]


def is_pdf(response) -> bool:
    return (response.status_code == 200 and response.content.startswith(b"%PDF-")
            and response.headers["content-type"] == "application/pdf"
            and "attachment" in response.headers["content-disposition"])


@needs_tex
@pytest.mark.parametrize("params", [{"expr": "sigmoid(w*x + b)", "wrt": "w"},
                                    {"expr": "x*y^2", "wrt": "x,y", "kind": "hessian"}])
def test_derivation_pdf_download(client, params):
    page = client.get("/derive", params=params)
    assert page.status_code == 200 and "/export/derivation.pdf?" in page.text
    assert is_pdf(client.get("/export/derivation.pdf", params=params))


@needs_tex
def test_notes_pdf_download(client):
    page = client.get("/notes")
    assert 'value="pdf"' in page.text and "no TeX engine" not in page.text
    assert is_pdf(client.post("/notes", data={"text": NOTES, "download": "pdf"}))


def test_bad_input_gets_an_error_not_a_pdf(client):
    r = client.get("/export/derivation.pdf", params={"expr": "x^^2", "wrt": "x"})
    assert r.status_code == 400 and not r.content.startswith(b"%PDF")


@pytest.mark.parametrize("command", HOSTILE[:4])
def test_hostile_notes_are_refused_with_422(client, command):
    r = client.post("/notes", data={"text": "$" + command + "$", "download": "pdf"})
    assert r.status_code == 422 and not r.content.startswith(b"%PDF")
    assert "not allow" in r.text or "never" in r.text


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("command", HOSTILE)
def test_hostile_notes_never_reach_the_engine(command, place, monkeypatch):
    """Run in this process with the compile replaced by a recorder: every hostile payload,
    in every place notes math may stand, is refused before compile_pdf is called."""
    from derivekit.render import latexdoc
    from derivekit.web import extras

    calls = []
    monkeypatch.setattr(latexdoc, "compile_pdf", lambda *a, **k: calls.append(a))
    with pytest.raises(DerivekitError):
        extras.notes_pdf({"text": place.replace("{}", command)})
    assert calls == []


def test_pdf_caps_and_no_engine(monkeypatch):
    from derivekit.render import latexdoc
    from derivekit.web import extras, pages

    monkeypatch.setattr(extras, "MAX_TEX_CHARS", 100)
    with pytest.raises(DerivekitError, match="characters of LaTeX"):
        extras.compiled_pdf(latexdoc.document("x"))
    monkeypatch.setattr(latexdoc, "find_engine", lambda: None)
    with pytest.raises(DerivekitError, match="no TeX engine"):
        extras.compiled_pdf(latexdoc.document("x"))
    assert pages.tex_engine() is None


@needs_tex
def test_pdf_size_cap(monkeypatch):
    from derivekit.render import latexdoc
    from derivekit.web import extras

    monkeypatch.setattr(extras, "MAX_PDF_BYTES", 1000)
    with pytest.raises(DerivekitError, match="the PDF is over"):
        extras.compiled_pdf(latexdoc.document("x"))


def test_pages_say_when_there_is_no_engine(client, monkeypatch):
    from derivekit.web import pages

    monkeypatch.setitem(pages.TEMPLATES.env.globals, "tex_engine", lambda: None)
    notes = client.get("/notes").text
    assert "no TeX engine" in notes and 'value="pdf"' not in notes
    derive = client.get("/derive", params={"expr": "x^2", "wrt": "x"}).text
    assert "no TeX engine" in derive and "/export/derivation.pdf" not in derive
