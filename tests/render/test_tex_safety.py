"""Untrusted TeX cannot read files, run commands or outlive its timeout.

Two layers: :mod:`derivekit.render.safetex` refuses dangerous math before it reaches TeX
(tested without an engine), and :func:`latexdoc.compile_pdf` runs the engine sandboxed
(tested on raw documents that skip the first layer, so each guard is shown to work alone).
"""

from __future__ import annotations

import os
import subprocess

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from derivekit.errors import DerivekitError
from derivekit.render import latexdoc, safetex

needs_engine = pytest.mark.skipif(latexdoc.find_engine() is None, reason="no LaTeX engine on PATH")

PAYLOADS = [r"\input{/etc/passwd}", r"\immediate\write18{touch pwned}", r"\def\loop{\loop}\loop",
            r"^^5cinput{/etc/passwd}", r"\csname input\endcsname{/etc/passwd}",
            r"\begin{verbatim}x\end{verbatim}", r"x \catcode`\^=7", "a # b", r"x % comment",
            r"\openin1=/etc/passwd", r"{x", r"x}", r"\begin{pmatrix} 1 \end{bmatrix}", "x\\"]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_dangerous_math_is_refused_with_its_place(payload):
    with pytest.raises(DerivekitError, match="notes.md:7"):
        safetex.safe_math(payload, "notes.md:7")


@pytest.mark.parametrize("math", [r"\frac{\partial L}{\partial w} = \sigma'(z)\, x",
                                  r"W \in \mathbb{R}^{m \times n}", r"\sum_{i=1}^n x_i^2",
                                  r"\begin{pmatrix} a & b \\ c & d \end{pmatrix}",
                                  r"\left\| x \right\|_2 \le \tfrac14", r"50\% \text{ of } x"])
def test_ordinary_math_is_kept(math):
    assert safetex.safe_math(math).replace(" ", "") == math.replace(" ", "")


_ALPHABET = list("ab{}^_\\ #%$&~01") + [r"\input", r"\def", r"\frac", r"\write", r"\begin{",
                                        r"\end{", "verbatim}", "pmatrix}", "^^"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_ALPHABET), max_size=30).map("".join))
@example(math="{\\\\verbatim}")  # a line break glued to letters read as a command
def test_safe_math_output_has_only_allowed_commands(math):
    """On random token soup: either refused, or every command in the output is allowed,
    braces balance, and no '#', '%' comment or '^^' survives."""
    import re
    try:
        out = safetex.safe_math(math)
    except DerivekitError:
        return
    for command in re.findall(r"\\([A-Za-z]+)", out):
        assert command in safetex.MATH_COMMANDS
    assert "^^" not in out and not re.search(r"(?<!\\)[#%]", out.replace("\\\\", ""))
    depth = 0
    for ch in re.sub(r"\\[{}]", "", out.replace("\\\\", "")):
        depth += (ch == "{") - (ch == "}")
        assert depth >= 0
    assert depth == 0


def test_generated_tex_is_checked_for_dangerous_commands():
    assert safetex.check_generated(r"\frac{d}{dx} x^2") == r"\frac{d}{dx} x^2"
    for bad in (r"\input{x}", r"\write18{ls}", "^^5c", r"\def\a{}"):
        with pytest.raises(DerivekitError, match="never writes"):
            safetex.check_generated(bad)


def test_link_urls_are_encoded_and_schemes_limited():
    assert safetex.safe_url("https://e.com/a}b{c\\d%e#f") == r"https://e.com/a\%7Db\%7Bc\%5Cd\%25e\#f"
    for url in ("file:///etc/passwd", "run:rm", "javascript:alert(1)", "notes.md"):
        assert safetex.safe_url(url) is None


def test_tex_environment_is_paranoid(tmp_path):
    env = latexdoc.tex_environment(tmp_path)
    assert env["openin_any"] == env["openout_any"] == "p" and env["shell_escape"] == "f"
    assert env["HOME"] == env["TEXMFVAR"] == str(tmp_path)
    for command in latexdoc.engine_commands("latexmk") + latexdoc.engine_commands("pdflatex"):
        assert "-no-shell-escape" in command
    assert "-norc" in latexdoc.engine_commands("latexmk")[0]


def test_latex_errors_never_quote_context_lines():
    log = ("(/etc/passwd\nroot:x:0:0:root:/root:/bin/bash\n"
           "! Undefined control sequence.\nl.3 root:x:0:0:secret\n"
           "/etc/passwd:1: something root:x\n./notes.tex:12: Missing $ inserted.\n")
    text = latexdoc.latex_errors(log)
    assert "root" not in text and "secret" not in text
    assert "Undefined control sequence" in text and "notes.tex:12" in text


def _document(body: str) -> str:
    return "\\documentclass{article}\n\\begin{document}\n" + body + "\n\\end{document}\n"


@needs_engine
def test_compile_cannot_read_files_outside_its_folder(tmp_path):
    secret = tmp_path / "secret.tex"
    secret.write_text("TOPSECRET")
    with pytest.raises(DerivekitError) as info:
        latexdoc.compile_pdf(_document(rf"\input{{{secret}}}"), tmp_path / "out.pdf")
    assert "TOPSECRET" not in str(info.value)
    assert not (tmp_path / "out.pdf").exists()


@needs_engine
def test_compile_never_runs_shell_escape(tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    monkeypatch.setenv("shell_escape", "t")  # the caller's environment asks for it: ignored
    try:
        latexdoc.compile_pdf(_document(rf"\immediate\write18{{touch {marker}}} x"),
                             tmp_path / "out.pdf")
    except DerivekitError:
        pass
    assert not marker.exists()


@needs_engine
def test_compile_timeout_kills_the_whole_process_group(tmp_path, monkeypatch):
    groups = []
    real_popen = subprocess.Popen

    def recording_popen(*args, **kwargs):
        proc = real_popen(*args, **kwargs)
        groups.append(os.getpgid(proc.pid))
        return proc
    monkeypatch.setattr(subprocess, "Popen", recording_popen)
    with pytest.raises(DerivekitError, match="did not finish within 3 s"):
        latexdoc.compile_pdf(_document(r"\def\loop{\loop}\loop"), tmp_path / "out.pdf",
                             timeout=3)
    assert groups and groups[0] != os.getpgid(0)  # the engine ran in a group of its own
    import time
    for _ in range(50):  # killed children are reaped by init within moments
        try:
            os.killpg(groups[0], 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail("a process of the TeX engine's group is still running")


def test_compile_timeout_must_be_finite_and_positive(tmp_path):
    for bad in (0, -1, float("inf"), float("nan")):
        with pytest.raises(DerivekitError, match="TeX timeout"):
            latexdoc.compile_pdf("x", tmp_path / "o.pdf", timeout=bad)
