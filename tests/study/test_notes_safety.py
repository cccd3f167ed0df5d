"""A notes file is safe to compile: a classmate's file cannot read, write or run anything,
and derivekit's own outputs never overwrite or follow links without --force."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from derivekit import limits
from derivekit.cli import main
from derivekit.errors import DerivekitError
from derivekit.render import latexdoc
from derivekit.study import notes

PAYLOADS = {
    "input": "Inline: $\\input{/etc/passwd}$",
    "write18": "$$\\immediate\\write18{touch PWNED}$$",
    "loop": "$\\def\\loop{\\loop}\\loop$",
    "caret": "$^^5cinput{/etc/passwd}$",
}


@pytest.mark.parametrize("name", list(PAYLOADS))
def test_math_payloads_are_refused_with_their_line(name, tmp_path):
    src = tmp_path / "n.md"
    src.write_text("# Notes\n\nSome prose.\n\n" + PAYLOADS[name] + "\n")
    with pytest.raises(DerivekitError, match=rf"{src}:5: "):
        notes.build(src, "tex")
    assert not (tmp_path / "n.tex").exists()


def test_text_payloads_are_escaped(tmp_path):
    src = tmp_path / "n.md"
    src.write_text("# Title \\input{/etc/passwd} $\\write18{x}$\n\n"
                   "[a link](https://e.com/x}\\input{/etc/passwd})\n\n"
                   "[local](file:///etc/passwd) \\(\\input{/etc/passwd}\\)\n\n"
                   "```\n\\end{verbatim}\n\\end{alltt}\n\\input{/etc/passwd}\n```\n\n"
                   "```derivekit\nderivative: x^2\nwrt: x\ntitle: T \\input{/etc/passwd} %\n```\n")
    tex = notes.build(src, "tex")[1]
    body = tex[tex.index("\\begin{document}"):]
    assert "\\input" not in tex and "\\write18" not in tex and "\\end{verbatim}" not in body
    assert tex.count("\\end{alltt}") == 1
    assert "\\href{https://e.com/x\\%7D\\%5Cinput\\%7B/etc/passwd\\%7D}" in tex
    assert "\\href{file:" not in tex


@pytest.mark.skipif(latexdoc.find_engine() is None, reason="no LaTeX engine on PATH")
def test_hostile_notes_compile_to_a_pdf_that_read_nothing(tmp_path):
    src = tmp_path / "n.md"
    src.write_text("# T\n\n[x](https://e.com/}\\input{/etc/passwd})\n\n"
                   "```\n\\end{verbatim}\n\\input{/etc/passwd}\n\\immediate\\write18{touch PWNED}\n```\n")
    out, _ = notes.build(src, "pdf")
    assert out.exists() and not (tmp_path / "PWNED").exists()


def test_notes_file_must_be_a_small_regular_utf8_file(tmp_path):
    with pytest.raises(DerivekitError, match="is a folder"):
        notes.load(tmp_path)
    with pytest.raises(DerivekitError, match="not a regular file"):
        notes.load("/dev/zero")  # endless: refused before reading
    big = tmp_path / "big.md"
    big.write_bytes(b"x" * (limits.MAX_NOTES_BYTES + 1))
    with pytest.raises(DerivekitError, match="larger than"):
        notes.load(big)
    binary = tmp_path / "bin.md"
    binary.write_bytes(b"# ok\n\xff\xfe\x00")
    with pytest.raises(DerivekitError, match="not UTF-8"):
        notes.load(binary)


def test_cli_refuses_a_folder_with_exit_2(tmp_path, capsys):
    assert main(["notes", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err


@pytest.mark.parametrize("dangling", [True, False])
def test_output_never_follows_a_symlink_without_force(tmp_path, dangling):
    src = tmp_path / "lesson.md"
    src.write_text("# L\n\ntext\n")
    target = tmp_path / "outside" / ".bashrc"
    target.parent.mkdir()
    if not dangling:
        target.write_text("original")
    link = tmp_path / "lesson.tex"
    link.symlink_to(target)
    with pytest.raises(DerivekitError, match="symbolic link"):
        notes.build(src, "tex")
    assert (not target.exists()) if dangling else target.read_text() == "original"
    notes.build(src, "tex", force=True)  # asked for: written through the link
    assert "\\begin{document}" in target.read_text()


def test_output_folder_must_exist(tmp_path):
    src = tmp_path / "lesson.md"
    src.write_text("# L\n")
    with pytest.raises(DerivekitError, match="does not exist"):
        notes.build(src, "tex", tmp_path / "nodir" / "x.tex")


def test_tex_timeout_option_reaches_the_compile(tmp_path, monkeypatch, capsys):
    seen = {}
    monkeypatch.setattr(latexdoc, "compile_pdf",
                        lambda text, output, timeout=None, force=False, log=None: seen.update(t=timeout))
    src = tmp_path / "lesson.md"
    src.write_text("# L\n")
    assert main(["notes", str(src), "--pdf", "--tex-timeout", "5"]) == 0
    assert seen == {"t": 5.0}


@pytest.mark.parametrize("line", ["```" + " " * 200_000 + "`", "~" * 200_000 + "`",
                                  "[" * 200_000, "[a](" * 50_000, "a $ b " * 30_000])
def test_prose_patterns_are_linear_on_long_lines(line):
    """These lines made the fence and link patterns backtrack quadratically (hours at this
    size); under a 10 s deadline they must convert."""
    with limits.deadline(10):
        notes.markdown_to_latex(line, source="n.md")


def test_dollar_inside_display_math_is_refused(tmp_path):
    src = tmp_path / "n.md"
    src.write_text("# T\n\n$$\na $ b\n$$\n")
    with pytest.raises(DerivekitError, match="a math delimiter"):
        notes.build(src, "tex")


_FRAGMENTS = ["$", "$$", "\\input{/etc/passwd}", "\\write18{x}", "\\def\\a{\\a}", "^^5c", "{", "}",
              "```", "```derivekit", "derivative: x^2", "wrt: x", "title: \\input{t}", "# ", "## ",
              "- ", "1. ", "> ", "| a | b |", "|---|---|", "[l](", "https://e.com/", ")", "]",
              "\\end{verbatim}", "\\end{alltt}", "%", "#", "&", "~", "\\(", "\\)", "x", " ",
              "\\frac{a}{b}", "\\begin{pmatrix}", "\\end{pmatrix}", "**", "_", "`", "\n", "\n\n"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_FRAGMENTS), max_size=40).map("".join))
def test_random_notes_never_reach_tex_with_a_dangerous_command(text):
    """On generated notes files: either a DerivekitError, or a document whose body holds
    none of the commands that read, write, define or run, and no verbatim environment."""
    from derivekit.render.safetex import check_generated
    try:
        tex = notes.to_tex(notes.parse_notes(text, "n.md"))
    except DerivekitError:
        return
    body = tex[tex.index("\\begin{document}"):]
    check_generated(body)  # raises on \input, \write, \def, ^^ …
    assert "\\begin{verbatim}" not in body and "\\end{verbatim}" not in body
    assert body.count("\\begin{alltt}") == body.count("\\end{alltt}")
