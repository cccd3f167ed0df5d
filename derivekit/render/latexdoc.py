"""Complete LaTeX documents and compiling them to PDF with a real engine.

:func:`document` wraps body text in a preamble that every derivekit document shares (amsmath
for ``align*``, amssymb, booktabs, and Unicode declarations so that σ, ′, ᵀ, ⊙ or u₁ in prose
compile under pdflatex). :func:`compile_pdf` runs latexmk, or pdflatex when latexmk is absent,
in a scratch directory and reports LaTeX's own error lines when it fails.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from derivekit.errors import DerivekitError
from derivekit.render.printing import COMBINING_ACCENTS as _COMBINING_ACCENTS

PACKAGES = ("amsmath", "amssymb", "bm", "booktabs", "array", "longtable",
            "parskip", "xcolor", "alltt")

#: Unicode characters that may reach a document (prose, or text produced by a renderer) and
#: what pdflatex should typeset for each.
UNICODE_MATH = {
    **{ch: rf"\{name}" for ch, name in zip(
        "αβγδεζηθικλμνξπρστυφχψωΓΔΘΛΞΠΣΥΦΨΩ",
        ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
         "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi",
         "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi",
         "Psi", "Omega"])},
    "ϵ": r"\epsilon", "ϕ": r"\phi", "′": "'", "″": "''", "−": "-", "×": r"\times",
    "·": r"\cdot", "⋅": r"\cdot", "÷": r"\div", "±": r"\pm", "≤": r"\le", "≥": r"\ge",
    "≠": r"\ne", "≈": r"\approx", "≡": r"\equiv", "∝": r"\propto", "∈": r"\in",
    "⊙": r"\odot", "⊗": r"\otimes", "∘": r"\circ", "∂": r"\partial", "∇": r"\nabla",
    "∑": r"\sum", "∏": r"\prod", "√": r"\surd", "∞": r"\infty", "→": r"\to",
    "←": r"\leftarrow", "⇒": r"\Rightarrow", "↦": r"\mapsto", "‖": r"\|", "ᵀ": r"{}^{\top}",
    "⊤": r"\top", "𝟙": r"\mathbf{1}", "ℝ": r"\mathbb{R}", "…": r"\ldots", "⋯": r"\cdots",
    "∀": r"\forall", "∃": r"\exists", "∫": r"\int", "⟨": r"\langle", "⟩": r"\rangle",
    **{ch: f"{{}}_{{{d}}}" for d, ch in enumerate("₀₁₂₃₄₅₆₇₈₉")},
    **{ch: f"{{}}^{{{d}}}" for d, ch in enumerate("⁰¹²³⁴⁵⁶⁷⁸⁹")},
    **{ch: f"{{}}^{{{letter}}}" for ch, letter in zip("ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻ",
                                                   "abcdefghijklmnoprstuvwxyz")},
    **{ch: f"{{}}_{{{letter}}}" for ch, letter in zip("ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ", "aehijklmnoprstuvx")},
    "⁻": "{}^{-}", "⁺": "{}^{+}", "₋": "{}_{-}", "₊": "{}_{+}", "⁽": "{}^{(}", "⁾": "{}^{)}",
    "₍": "{}_{(}", "₎": "{}_{)}", "ℓ": r"\ell", "Φ": r"\Phi", "φ": r"\varphi",
    "δ": r"\delta", "√": r"\surd", "∑": r"\sum",
    # combining accents cannot sit over the previous letter here; show them after it
    "\u0302": r"\hat{}", "\u0303": r"\tilde{}", "\u0304": r"\bar{}", "\u0307": r"\dot{}",
}
UNICODE_TEXT = {"—": "---", "–": "--", "“": "``", "”": "''", "‘": "`", "’": "'",
                "✓": r"\ensuremath{\checkmark}", "✗": r"\ensuremath{\times}", "•": r"\textbullet{}", "\u00a0": "~"}


def unicode_declarations() -> str:
    """``\\DeclareUnicodeCharacter`` lines for :data:`UNICODE_MATH` and :data:`UNICODE_TEXT`."""
    lines = []
    for ch, tex in UNICODE_MATH.items():
        lines.append(rf"\DeclareUnicodeCharacter{{{ord(ch):04X}}}{{\ensuremath{{{tex}}}}}")
    for ch, tex in UNICODE_TEXT.items():
        if ch not in UNICODE_MATH:
            lines.append(rf"\DeclareUnicodeCharacter{{{ord(ch):04X}}}{{{tex}}}")
    return "\n".join(lines)


def preamble(title: str | None = None, author: str | None = None) -> str:
    """The shared preamble, up to and including ``\\begin{document}`` (and ``\\maketitle``)."""
    lines = [r"\documentclass[11pt]{article}", r"\usepackage[utf8]{inputenc}",
             r"\usepackage[margin=2.2cm]{geometry}"]
    lines += [rf"\usepackage{{{name}}}" for name in PACKAGES]
    # emergency stretch: a line of prose with formulas that cannot break where TeX would like
    # is set a little loose instead of running into the margin
    lines += [r"\usepackage[hidelinks]{hyperref}", r"\allowdisplaybreaks",
              r"\setlength{\emergencystretch}{3em}",
              r"\setcounter{secnumdepth}{2}", unicode_declarations()]
    if title:
        lines.append(rf"\title{{{escape_text(title)}}}")
        lines.append(rf"\author{{{escape_text(author or 'derivekit')}}}")
        lines.append(r"\date{}")
    lines.append(r"\begin{document}")
    if title:
        lines.append(r"\maketitle")
    return "\n".join(lines) + "\n"


def document(body: str, title: str | None = None, author: str | None = None) -> str:
    """A complete, compilable ``.tex`` document around ``body``."""
    text = preamble(title, author) + "\n" + body.rstrip() + "\n\n\\end{document}\n"
    return sanitize_unicode(text)


#: Latin-1 characters pdflatex's utf8 input cannot set in the default (OT1) font encoding
_LATIN1_UNSET = set("«»ÐÞðþ")


def sanitize_unicode(text: str) -> str:
    """Replace characters pdflatex would reject: declared ones (:data:`UNICODE_MATH`,
    :data:`UNICODE_TEXT`) and Latin-1 stay; an accented letter becomes a math accent
    (Ȳ → ``\\bar{\\mathrm{Y}}``); anything else a visible ``\\square``."""
    import unicodedata
    out = []
    for ch in text:
        if (ch < " " and ch not in "\n\t") or ch == "\x7f":
            continue  # control characters mean nothing in a document; TeX would choke on them
        if ch < "\u0080" or ch in UNICODE_MATH or ch in UNICODE_TEXT or (
                "\u00a0" <= ch <= "\u00ff" and ch not in _LATIN1_UNSET):
            out.append(ch)
            continue
        base, *marks = unicodedata.normalize("NFD", ch)
        if marks and base.isascii() and all(m in _COMBINING_ACCENTS for m in marks):
            latex = rf"\mathrm{{{base}}}"
            for mark in marks:
                latex = f"{_COMBINING_ACCENTS[mark]}{{{latex}}}"
            out.append(rf"\ensuremath{{{latex}}}")
        else:
            out.append(r"\ensuremath{\square}")
    return "".join(out)


_TEXT_SPECIALS = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                  "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
                  "^": r"\textasciicircum{}", "<": r"\textless{}", ">": r"\textgreater{}",
                  "|": r"\textbar{}"}


def escape_text(text: str) -> str:
    """Escape LaTeX's special characters in plain prose (no math inside)."""
    return "".join(_TEXT_SPECIALS.get(ch, ch) for ch in text)


def display_math(latex: str) -> str:
    """Put a math fragment from a renderer into display math, fitting its outer environment.

    ``align*`` / ``equation*`` / ``\\[ \\]`` blocks and prose-level LaTeX (itemize, tabular,
    paragraphs) are kept as they are; a bare fragment (``aligned``, a matrix, an expression)
    goes inside ``\\[ … \\]``.
    """
    text = latex.strip()
    if text.startswith("$$") and text.endswith("$$"):
        text = text[2:-2].strip()
    standalone = re.match(r"\\(\[|begin\{(align|equation|gather|multline|flalign)\*?\}"
                          r"|begin\{(itemize|enumerate|tabular|center|description|longtable)\}"
                          r"|paragraph|textbf|subsection|section|noindent)", text)
    if standalone or _has_prose(text):
        return text
    return "\\[\n" + text + "\n\\]"


def _has_prose(text: str) -> bool:
    """True when a renderer's LaTeX is prose with inline math rather than one math fragment."""
    return (bool(re.search(r"(^|[^\\])\$", text)) or "\\begin{align*}" in text
            or "\n\n" in text)


# ---------------------------------------------------------------------------------------------
# compiling

ENGINES = ("latexmk", "pdflatex")
INSTALL_HINT = ("install a TeX engine, e.g. on Debian/Ubuntu: apt-get install latexmk "
                "texlive-latex-base texlive-latex-recommended texlive-fonts-recommended; "
                "or write the .tex source with --to tex and compile it elsewhere")


def find_engine() -> str | None:
    """The first LaTeX engine on PATH (latexmk preferred), or None."""
    for name in ENGINES:
        if shutil.which(name):
            return name
    return None


def tex_environment(private: str | Path) -> dict[str, str]:
    """The environment a TeX engine runs in: no shell escape, file reading and writing
    restricted to the compile folder (kpathsea's paranoid ``openin_any``/``openout_any``),
    and a private HOME and TEXMFVAR/TEXMFCONFIG so that no user start-up file
    (``~/.latexmkrc``, a ``texmf.cnf``) can switch those back on."""
    private = str(private)
    keep = ("PATH", "LANG", "LC_ALL", "TZ", "SOURCE_DATE_EPOCH")
    env = {key: os.environ[key] for key in keep if key in os.environ}
    env.update(HOME=private, TEXMFHOME=private, TEXMFVAR=private, TEXMFCONFIG=private,
               TMPDIR=private, openin_any="p", openout_any="p", shell_escape="f",
               shell_escape_commands="")
    return env


def engine_commands(engine: str) -> list[list[str]]:
    """The command lines that compile ``notes.tex``: never shell escape, never an rc file."""
    flags = ["-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error",
             "-file-line-error"]
    if engine == "latexmk":
        return [["latexmk", "-norc", "-pdf", "-pdflatex=pdflatex -no-shell-escape %O %S",
                 *flags, "notes.tex"]]
    run = ["pdflatex", *flags, "notes.tex"]
    return [run, run]  # two passes settle cross-references


def run_engine(command: list[str], folder: str | Path, timeout: float) -> tuple[int, str]:
    """Run ``command`` in ``folder`` in a session of its own; on timeout (and after it ends)
    the whole process group is killed, so no ``pdflatex`` child outlives it."""
    proc = subprocess.Popen(command, cwd=folder, env=tex_environment(folder),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        raise DerivekitError(f"{command[0]} did not finish within {timeout:g} s and was stopped",
                             hint="check the document for runaway macros, or raise the limit "
                                  "with --tex-timeout") from None
    finally:
        _kill_group(proc)
    return proc.returncode, output.decode("utf-8", errors="replace")


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def compile_pdf(tex_source: str, output: str | Path, *, timeout: float | None = None,
                force: bool = False, log: str | Path | None = None) -> Path:
    """Compile ``tex_source`` to the PDF file ``output``; return its path.

    The engine runs in a fresh temporary folder under :func:`tex_environment`, with
    ``-no-shell-escape``, in its own process group that is killed whole after ``timeout``
    seconds (default :data:`derivekit.limits.TEX_TIMEOUT_S`). Raises
    :class:`DerivekitError` when no engine is on PATH (naming what to install) or when LaTeX
    reports errors (quoting only its ``!`` message lines, never the text around them).
    With ``log``, the engine's ``.log`` is copied there (for :func:`overfull_boxes`).
    """
    from derivekit import files, limits
    timeout = limits.TEX_TIMEOUT_S if timeout is None else timeout
    if not (0 < timeout <= limits.MAX_TIMEOUT_S):
        raise DerivekitError(f"the TeX timeout must be between 0 and {limits.MAX_TIMEOUT_S:g} s, "
                             f"not {timeout}", hint="e.g. --tex-timeout 60")
    engine = find_engine()
    if engine is None:
        raise DerivekitError("no LaTeX engine found on PATH (looked for latexmk and pdflatex)",
                             hint=INSTALL_HINT)
    output = files.output_path(output, force=force, suffixes=(".pdf",), what="PDF")
    with tempfile.TemporaryDirectory(prefix="derivekit-tex-") as tmp:
        tex_path = Path(tmp) / "notes.tex"
        tex_path.write_text(tex_source, encoding="utf-8")
        for command in engine_commands(engine):
            returncode, stdout = run_engine(command, tmp, timeout)
            if returncode != 0:
                log = (Path(tmp) / "notes.log")
                log_text = log.read_text(errors="replace") if log.exists() else stdout
                raise DerivekitError(f"{engine} failed to compile the document:\n"
                                     + latex_errors(log_text),
                                     hint="write the source with --to tex to inspect it")
        pdf = Path(tmp) / "notes.pdf"
        if log is not None and (Path(tmp) / "notes.log").exists():
            files.copy_file(Path(tmp) / "notes.log", Path(log), force=True)
        if not pdf.exists():
            raise DerivekitError(f"{engine} finished but wrote no PDF")
        files.copy_file(pdf, output, force=force)
    return output


def latex_errors(log_text: str, limit: int = 5, width: int = 160) -> str:
    """LaTeX's error messages from a log: the ``! …`` lines and ``./notes.tex:N: …`` lines,
    each cut to ``width`` characters. The lines after them (TeX's context) and other files'
    lines are never quoted: they may show the contents of any file TeX was made to read."""
    found = []
    for line in log_text.splitlines():
        if line.startswith("!") or re.match(r"^(\./)?notes\.tex:\d+: ", line):
            text = line if len(line) <= width else line[:width] + "…"
            if text not in found:
                found.append(text)
            if len(found) >= limit:
                break
    return "\n".join(found) if found else "(no error message in the LaTeX log)"


_OVERFULL = re.compile(r"^Overfull \\hbox \((?P<pt>[0-9.]+)pt too wide\) (?P<where>.*)$")


def overfull_boxes(log_text: str, limit_pt: float = 0.0) -> list[tuple[float, str]]:
    """Every ``Overfull \\hbox`` of a LaTeX log wider than ``limit_pt``: (points too wide,
    where and what), the context being TeX's own line (``in paragraph at lines 12--14``) and
    the start of the box's contents that it prints below it."""
    found = []
    lines = log_text.splitlines()
    for i, line in enumerate(lines):
        match = _OVERFULL.match(line)
        if match and float(match["pt"]) > limit_pt:
            context = " ".join(lines[i + 1: i + 3]).strip()
            found.append((float(match["pt"]), f"{match['where']}: {context[:160]}"))
    return found
