"""Study-notes documents: the source format, Markdown and LaTeX output, overwrite protection,
and every topic kind against the module that does its work."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from derivekit.cli import main
from derivekit.display import Displayable
from derivekit.errors import DerivekitError
from derivekit.render.latexdoc import display_math, escape_text
from derivekit.study import notes, topics


@dataclass(eq=False)
class FakeResult(Displayable):
    """Stands in for a derivekit result so the document machinery is tested on its own."""

    expr: str

    def _render(self, fmt, **settings):
        return {"text": f"d/dx {self.expr}", "markdown": f"$$\\frac{{d}}{{dx}} {self.expr}$$",
                "latex": f"\\begin{{aligned}} \\frac{{d}}{{dx}} {self.expr} \\end{{aligned}}",
                "dict": {"expr": self.expr}}[fmt]


@pytest.fixture
def fake_kind(monkeypatch):
    kind = topics.TopicKind("fake", "a test kind", "derivekit.display:Displayable",
                            lambda f: FakeResult(f["fake"]), lambda f: f"Fake {f['fake']}",
                            required=("wrt",), optional=("order",))
    monkeypatch.setitem(topics.TOPIC_KINDS, "fake", kind)
    return kind


SOURCE = """# My notes

Intro with $x^2$ and **bold** and 50% & `code_1`.

## Calculus

```derivekit
fake: x^2
wrt: x
```

```python
print("kept")
```

```derivekit
% a comment
fake: sin(x)
wrt: x
title: Custom title
```
"""


def test_parse_splits_prose_and_topics(fake_kind):
    doc = notes.parse_notes(SOURCE, "n.md")
    assert doc.title == "My notes"
    assert [t.kind for t in doc.topics] == ["fake", "fake"]
    assert doc.topics[0].fields == {"fake": "x^2", "wrt": "x"}
    assert doc.topics[0].line == 7
    assert doc.topics[1].title == "Custom title"
    assert doc.topics[0].title == "Fake x^2"
    prose = "\n".join(p.text for p in doc.parts if isinstance(p, notes.Prose))
    assert 'print("kept")' in prose


@pytest.mark.parametrize("source, message", [
    ("```derivekit\nderivativ: x^2\nwrt: x\n```", "n.md:2: unknown topic kind 'derivativ'"),
    ("```derivekit\nderivative x^2\n```", "n.md:2: cannot read 'derivative x^2'"),
    ("```derivekit\nderivative: x\nwrt: x\nwrt: y\n```", "n.md:4: 'wrt' is given twice"),
    ("```derivekit\n\n```", "empty derivekit block"),
    ("text\n```derivekit\nderivative: x\n", "n.md:2: a fenced block is never closed"),
])
def test_parse_errors_name_the_line(source, message):
    with pytest.raises(DerivekitError) as info:
        notes.parse_notes(source, "n.md")
    assert message in str(info.value)


def test_unknown_kind_suggests_the_near_miss():
    with pytest.raises(DerivekitError, match="did you mean 'derivative'"):
        notes.parse_notes("```derivekit\nderivativ: x\n```", "n.md")


def test_topic_fields_are_validated(fake_kind):
    with pytest.raises(DerivekitError, match="missing 'wrt'"):
        topics.run_topic("fake", {"fake": "x"})
    with pytest.raises(DerivekitError, match="take no 'colour' key"):
        topics.run_topic("fake", {"fake": "x", "wrt": "x", "colour": "red"})


def test_markdown_output_keeps_prose_and_renders_topics(fake_kind):
    out = notes.to_markdown(notes.parse_notes(SOURCE, "n.md"))
    assert out.startswith("# My notes\n")
    assert "### Fake x^2" in out and "### Custom title" in out
    assert "$$\\frac{d}{dx} x^2$$" in out
    assert "**bold**" in out


def test_tex_output_is_a_complete_document(fake_kind):
    tex = notes.to_tex(notes.parse_notes(SOURCE, "n.md"))
    assert tex.startswith("\\documentclass")
    assert "\\usepackage{amsmath}" in tex and tex.rstrip().endswith("\\end{document}")
    assert "\\title{My notes}" in tex
    assert "\\section{Calculus}" in tex
    assert tex.count("\\subsection{") == 2          # one per topic
    assert "\\[\n\\frac{d}{dx} x^2\n\\]" in tex      # results go through their Markdown
    assert "50\\% \\& \\texttt{code\\_1}" in tex
    assert "\\begin{alltt}" in tex


def test_markdown_to_latex_subset():
    tex = notes.markdown_to_latex("- one $a_1$\n- two *it*\n\n1. x\n\n$$\ny = 1\n$$\n> quote")
    assert "\\begin{itemize}\n\\item one $a_1$\n\\item two \\emph{it}\n%\n\\end{itemize}" in tex
    assert "\\begin{enumerate}" in tex and "\\[\ny = 1\n\\]" in tex
    assert "\\begin{quote}quote\\end{quote}" in tex
    assert notes.inline_to_latex("[site](http://a.b/#x)") == "\\href{http://a.b/\\#x}{site}"
    assert escape_text("a_b & {c}") == "a\\_b \\& \\{c\\}"
    assert notes.inline_to_latex(r"a \* b \_c") == r"a * b \_c"   # Markdown escapes


def test_result_headings_sit_below_the_topic_heading():
    text = "### Result\n```\n# code\n```\n#### Detail"
    assert notes.demote_headings(text, 3) == "#### Result\n```\n# code\n```\n##### Detail"


def test_markdown_to_latex_nested_lists_tables_and_rows():
    tex = notes.markdown_to_latex(
        "- **1.** $u$\n  $$a = b$$\n  - inner\n    $$c$$\n- three\n\n"
        "| a | b |\n|---:|:---:|\n| 1 | $x$ |\n\n$$\na \\\\ b\n$$\n### Head")
    assert tex.count("\\begin{itemize}") == 2 and tex.count("\\end{itemize}") == 2
    assert tex.index("\\[\na = b\n\\]") < tex.index("\\item inner")
    assert "\\begin{longtable}{rc}" in tex and "1 & $x$ \\\\" in tex
    assert "\\begin{gather*}\na \\\\ b\n\\end{gather*}" in tex
    assert notes.markdown_to_latex("### Head", heading_command="paragraph") == "\\paragraph*{Head}\\leavevmode\\par"


def test_display_math_wraps_fragments_only():
    assert display_math("x^2") == "\\[\nx^2\n\\]"
    assert display_math("$$x$$") == "\\[\nx\n\\]"
    block = "\\begin{align*} x &= 1 \\end{align*}"
    assert display_math(block) == block
    assert display_math("Some prose with $x$.") == "Some prose with $x$."


def test_build_refuses_to_overwrite_without_force(fake_kind, tmp_path):
    src = tmp_path / "n.md"
    src.write_text(SOURCE)
    out, text = notes.build(src, "tex")
    assert out == tmp_path / "n.tex" and out.read_text() == text
    with pytest.raises(DerivekitError, match="already exists.*\n.*--force"):
        notes.build(src, "tex")
    out.write_text("old")
    notes.build(src, "tex", force=True)
    assert out.read_text() != "old"
    with pytest.raises(DerivekitError, match="overwrite the notes source"):
        notes.build(src, "markdown", output=src, force=True)


def test_cli_notes(fake_kind, tmp_path, capsys):
    src = tmp_path / "n.md"
    src.write_text(SOURCE)
    assert main(["notes", str(src)]) == 0
    assert "### Custom title" in capsys.readouterr().out
    out = tmp_path / "o.md"
    assert main(["notes", str(src), "-o", str(out)]) == 0
    assert f"wrote {out} (markdown, 2 topics)" in capsys.readouterr().out
    assert main(["notes", str(src), "-o", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["notes", str(src), "-o", str(out), "--force"]) == 0
    assert main(["notes", str(tmp_path / "missing.md")]) == 2
    assert "no such notes file" in capsys.readouterr().err
    assert main(["notes", "--kinds"]) == 0
    assert "matrix_gradient" in capsys.readouterr().out


def test_missing_engine_is_a_clear_error(fake_kind, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    src = tmp_path / "n.md"
    src.write_text(SOURCE)
    with pytest.raises(DerivekitError, match="no LaTeX engine found on PATH") as info:
        notes.build(src, "pdf")
    assert "apt-get install latexmk" in str(info.value)
    assert not (tmp_path / "n.pdf").exists()


@pytest.mark.parametrize("name", list(topics.TOPIC_KINDS))
def test_every_topic_kind_runs_its_example(name):
    kind = topics.TOPIC_KINDS[name]
    result = topics.run_topic(name, dict(kind.example))
    assert isinstance(result, Displayable)
    assert result.to_markdown().strip()
    assert notes.result_latex(result).strip()
    assert result.to_text().strip()


def test_curriculum_covers_the_path_and_every_main_kind():
    doc = notes.load("examples/curriculum.md")
    headings = [line[3:] for p in doc.parts if isinstance(p, notes.Prose)
                for line in p.text.splitlines() if line.startswith("## ")]
    assert [h.split(":")[0].split()[0] for h in headings] == [
        "Linear", "Calculus", "Gradient", "Backpropagation", "Applications", "Challenges",
        "Interview"]
    kinds = {t.kind for t in doc.topics}
    assert {"derivative", "gradient", "check", "matrix_gradient", "backprop", "eigen", "pca",
            "descent"} <= kinds


def test_a_failing_topic_names_its_file_and_line(tmp_path):
    src = tmp_path / "n.md"
    src.write_text("# T\n\ntext\n\n```derivekit\nderivative: sigmoud(x)\nwrt: x\n```\n")
    with pytest.raises(DerivekitError) as info:
        notes.to_markdown(notes.load(src))
    assert str(info.value).startswith(f"{src}:5: derivative topic: ")
    assert "sigmoid" in str(info.value)            # the parser's suggestion survives
    assert main(["notes", str(src)]) == 2


def test_pca_topic_picks_csv_columns_and_standardises(tmp_path):
    csv = tmp_path / "scores.csv"
    csv.write_text("id,hours,score\n1,2,50\n2,4,61\n3,6,70\n4,8,86\n5,3,55\n")
    fields = {"pca": str(csv), "columns": "hours, score", "standardize": "yes", "k": "1"}
    result = topics.TOPIC_KINDS["pca"].run(fields)
    assert tuple(result.columns) == ("hours", "score") and result.standardize
    assert result.covariance[0, 0] == pytest.approx(1.0)
    with pytest.raises(DerivekitError, match="yes or no"):
        topics.TOPIC_KINDS["pca"].run({**fields, "standardize": "maybe"})


def test_pca_csv_is_found_next_to_the_notes_file(tmp_path, monkeypatch):
    folder = tmp_path / "course"
    folder.mkdir()
    (folder / "scores.csv").write_text("hours,score\n2,50\n4,61\n6,70\n8,86\n3,55\n")
    src = folder / "notes.md"
    src.write_text("# N\n\n```derivekit\npca: scores.csv\nk: 1\n```\n")
    monkeypatch.chdir(tmp_path)                      # not the notes file's folder
    markdown = notes.to_markdown(notes.load(src))
    assert "2 features (hours, score)" in markdown
