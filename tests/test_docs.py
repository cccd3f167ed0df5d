"""The docs stay true: documented commands still run, generated pages match the code, the
site builds with ``mkdocs build --strict`` and the example notebook executes (the last two
when the docs extra is installed)."""

from __future__ import annotations

import importlib.util
import io
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from derivekit.cli import main
from derivekit.cli.dispatch import COMMANDS

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import gen_docs  # noqa: E402

DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCED_BASH = re.compile(r"^```(?:bash|sh|console|shell)\n(.*?)^```", re.M | re.S)


def documented_commands() -> list[tuple[str, str]]:
    """(file, command) for each ``derivekit ...`` line in a fenced bash block."""
    found = []
    for path in DOC_FILES:
        if not path.exists():
            continue
        for block in FENCED_BASH.findall(path.read_text(encoding="utf-8")):
            for line in block.splitlines():
                line = line.strip().removeprefix("$ ")
                for part in line.split("&&"):
                    part = part.strip()
                    if part.startswith("derivekit "):
                        part = re.split(r"\s[|>]\s?", part)[0]   # drop pipes and redirects
                        found.append((path.name, part))
    first = {}
    for source, command in found:  # a command documented in several files runs once
        first.setdefault(command, source)
    return [(source, command) for command, source in first.items()]


COMMAND_LINES = documented_commands()


def test_docs_document_the_main_commands():
    commands = {shlex.split(cmd)[1] for _, cmd in COMMAND_LINES}
    assert {"notes", "drill", "explain", "diff"} <= commands


@pytest.mark.parametrize("source, command", COMMAND_LINES,
                         ids=[f"{f}:{c[:60]}" for f, c in COMMAND_LINES])
def test_documented_command_runs(source, command, tmp_path, monkeypatch, capsys):
    argv = shlex.split(command)[1:]
    module = COMMANDS.get(argv[0], ("",))[0]
    inputs = [a for a in argv if re.search(r"\.(csv|md|txt|tex|npy)$", a)]
    missing_inputs = [a for a in inputs if not (ROOT / a).exists() and "-o" not in argv]
    if missing_inputs:
        pytest.skip(f"uses the reader's own file {missing_inputs[0]}")
    # run in a scratch directory holding the example files, so outputs land there
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code = main(argv)
    out, err = capsys.readouterr()
    # 0: success; 1: a documented check that finds the math wrong (or a drill answer wrong);
    # 2 only for the documented example of a check that refuses ("cannot check")
    allowed = (0, 1, 2) if out.startswith("cannot check: ") else (0, 1)
    assert code in allowed, f"{command} exited {code}: {err}"
    if argv[0] not in ("check", "check-backprop", "drill"):
        assert code == 0, f"{command} exited {code}: {err}"


def test_rules_table_is_generated_from_the_registry():
    """The site's rules table is generated from RULES at build time (see the mkdocs test);
    the committed copy for GitHub readers comes from the same generator."""
    from derivekit.calculus import rules
    table = gen_docs.rules_table()
    for rule in rules.RULES.values():
        assert f"| `{rule.name}` | {rule.title} |" in table
    committed = (ROOT / "docs" / "rules-table.md").read_text(encoding="utf-8")
    assert committed.startswith("# Differentiation rules\n\n" + gen_docs.GENERATED_NOTE)


def test_every_module_has_a_reference_page():
    pages = gen_docs.generated_pages()
    for name in gen_docs.reference_modules():
        assert f"reference/{name}.md" in pages
        assert pages[f"reference/{name}.md"].startswith("# ")
    assert set(gen_docs.reference_modules()) >= {"parsing", "calculus", "render", "numeric",
                                                 "matrix", "optim", "linalg", "study", "shared"}
    for page in pages.values():
        assert "could not be imported" not in page


def test_example_outputs_are_regenerated_by_running_derivekit():
    text = ('<!-- gen: derivekit drill --topic eigen --difficulty 2 --seed 1 --answer "5, 3" -->\n'
            "stale\n<!-- /gen -->")
    fresh = gen_docs.refresh_examples(text)
    assert "stale" not in fresh and "Find the eigenvalues of A = [[4,1],[1,4]]" in fresh
    assert fresh.startswith("<!-- gen: ") and fresh.endswith("<!-- /gen -->")


@pytest.mark.skipif(importlib.util.find_spec("mkdocs") is None or
                    importlib.util.find_spec("material") is None,
                    reason="mkdocs/mkdocs-material not installed (pip install -e '.[docs]')")
def test_mkdocs_build_strict(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q",
                           "-f", str(ROOT / "mkdocs.yml"), "-d", str(tmp_path / "site")],
                          capture_output=True, text=True, cwd=ROOT, timeout=240)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "site" / "index.html").exists()
    rules_page = (tmp_path / "site" / "rules-table" / "index.html").read_text(encoding="utf-8")
    from derivekit.calculus.rules import RULES
    assert all(f"<code>{name}</code>" in rules_page for name in RULES)   # built from the registry
    assert (tmp_path / "site" / "reference" / "study" / "index.html").exists()


@pytest.mark.skipif(importlib.util.find_spec("nbclient") is None or
                    importlib.util.find_spec("ipykernel") is None,
                    reason="nbclient/ipykernel not installed (pip install -e '.[docs]')")
def test_example_notebook_executes(monkeypatch):
    import nbclient
    import nbformat
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    nb = nbformat.read(ROOT / "docs" / "example.ipynb", as_version=4)
    nbclient.NotebookClient(nb, timeout=180, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT)}}).execute()
    rich = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs
            if "text/markdown" in out.get("data", {})]
    assert len(rich) >= 6   # derivation, gradient, verdict, trajectory, eigen, matrix …
    pngs = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs
            if "image/png" in out.get("data", {})]
    assert pngs, "the contour figure should show inline"
    errors = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs
              if out.output_type == "error"]
    assert not errors
