"""Study-notes documents: a Markdown file with ``derivekit`` blocks → Markdown, .tex or PDF.

The source format is ordinary Markdown. Each fenced block whose info string is ``derivekit``
asks for one topic; its first line names the kind and its main argument, and the following
``key: value`` lines give the rest (kinds and keys: :data:`derivekit.study.topics.TOPIC_KINDS`)::

    ## Calculus

    The sigmoid neuron's weight gradient:

    ```derivekit
    derivative: sigmoid(w*x + b)
    wrt: w
    title: The sigmoid neuron
    ```

Everything outside the blocks is kept: in Markdown output as written, in LaTeX converted
(headings, paragraphs, lists, emphasis, code, links, ``$``/``$$`` math). The first ``#``
heading is the document's title; ``##`` headings become sections, and each topic becomes a
numbered subsection under the current heading. Lines starting with ``%`` inside a block are
comments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from derivekit.errors import DerivekitError
from derivekit.render.texbreak import LINE_EM, LIST_INDENT_EM

# linear time: possessive quantifiers never give characters back (the info string takes its
# spaces, callers strip it); the old \s* before it backtracked quadratically on long lines
FENCE = re.compile(r"^(?P<fence>`{3,}+|~{3,}+)(?P<info>[^`]*+)$")
FORMATS = ("markdown", "tex", "pdf")
SUFFIXES = {"markdown": ".notes.md", "tex": ".tex", "pdf": ".pdf"}


@dataclass
class Prose:
    """Markdown text between topic blocks, kept as written; ``line`` is its first line."""

    text: str
    line: int = 1


@dataclass
class Topic:
    """One ``derivekit`` block: its kind, its ``key: value`` fields, and where it starts."""

    kind: str
    fields: dict[str, str]
    line: int
    result: object = None

    @property
    def title(self) -> str:
        from derivekit.study.topics import topic_title
        return topic_title(self.kind, self.fields)


@dataclass
class NotesDocument:
    """A parsed notes file: an optional title and prose and topics in order."""

    title: str | None
    parts: list[Prose | Topic] = field(default_factory=list)
    source: str = "<notes>"

    @property
    def topics(self) -> list[Topic]:
        return [p for p in self.parts if isinstance(p, Topic)]


# --------------------------------------------------------------------------------------------
# reading


def parse_notes(text: str, source: str = "<notes>") -> NotesDocument:
    """Split ``text`` into prose and topic blocks; check each block names a known kind."""
    from derivekit.study.topics import topic_kind
    lines = text.splitlines()
    doc = NotesDocument(title=None, source=source)
    prose: list[str] = []
    prose_line = 1
    i = 0
    while i < len(lines):
        line = lines[i]
        if not prose:
            prose_line = i + 1
        match = FENCE.match(line.strip())
        if match:
            fence, info = match["fence"], match["info"].strip()
            end = next((j for j in range(i + 1, len(lines))
                        if lines[j].strip().startswith(fence[0] * len(fence))
                        and not lines[j].strip().strip(fence[0])), None)
            if end is None:
                raise DerivekitError(f"{source}:{i + 1}: a fenced block is never closed",
                                     hint=f"add a closing {fence} line")
            if info.split()[:1] == ["derivekit"]:
                if prose:
                    doc.parts.append(Prose("\n".join(prose), prose_line))
                    prose = []
                topic = _read_block(lines[i + 1: end], i + 1, source)
                try:
                    topic_kind(topic.kind)
                except DerivekitError as exc:
                    raise DerivekitError(f"{source}:{i + 2}: {exc.message}", hint=exc.hint) from None
                doc.parts.append(topic)
            else:
                prose.extend(lines[i: end + 1])
            i = end + 1
            continue
        if doc.title is None and line.startswith("# ") and not any(p.strip() for p in prose) \
                and not doc.parts:
            doc.title = line[2:].strip()
        else:
            prose.append(line)
        i += 1
    if prose:
        doc.parts.append(Prose("\n".join(prose), prose_line))
    return doc


def _read_block(body: list[str], fence_line: int, source: str) -> Topic:
    fields: dict[str, str] = {}
    kind = None
    for offset, raw in enumerate(body, start=fence_line + 1):
        line = raw.strip()
        if not line or line.startswith("%"):
            continue
        key, sep, value = line.partition(":")
        key = key.strip().lower().replace("-", "_").replace(" ", "_")
        if not sep or not re.fullmatch(r"[a-z_]+", key):
            raise DerivekitError(f"{source}:{offset}: cannot read '{line}' in a derivekit block",
                                 hint="write 'key: value' lines, the first naming the kind, "
                                      "e.g. 'derivative: sigmoid(w*x + b)' then 'wrt: w'")
        if key in fields:
            raise DerivekitError(f"{source}:{offset}: '{key}' is given twice in one block")
        if kind is None:
            kind = key
        fields[key] = value.strip()
    if kind is None:
        raise DerivekitError(f"{source}:{fence_line}: empty derivekit block",
                             hint="start it with a kind line such as 'derivative: x^2'")
    return Topic(kind=kind, fields=fields, line=fence_line)


def load(path: str | Path) -> NotesDocument:
    """Read the notes file at ``path``: a regular UTF-8 file of at most
    :data:`derivekit.limits.MAX_NOTES_BYTES` bytes."""
    from derivekit import files, limits
    path = Path(path)
    text = files.read_text(path, max_bytes=limits.MAX_NOTES_BYTES, what="notes file",
                           hint="give the path of a Markdown file, e.g. examples/curriculum.md")
    return parse_notes(text, str(path))


def evaluate(doc: NotesDocument) -> NotesDocument:
    """Run every topic once (results are kept on the topics, shared by all formats)."""
    from derivekit.limits import deadline
    from derivekit.study.topics import run_topic
    for topic in doc.topics:
        if topic.result is not None:
            continue
        fields = dict(topic.fields)
        data = fields.get("pca", "")
        if topic.kind == "pca" and data.lower().endswith(".csv") and not Path(data).is_absolute():
            beside = Path(doc.source).parent / data  # a CSV next to the notes file comes first
            if beside.is_file():
                fields["pca"] = str(beside)
        try:
            with deadline(60.0):
                topic.result = run_topic(topic.kind, fields)
        except DerivekitError as exc:
            raise DerivekitError(f"{doc.source}:{topic.line}: {topic.kind} topic: {exc.message}",
                                 hint=exc.hint) from None
    return doc


# --------------------------------------------------------------------------------------------
# writing


def to_markdown(doc: NotesDocument) -> str:
    """Markdown for Jupyter, GitHub and Obsidian: prose as written, topics as their results."""
    evaluate(doc)
    out = [f"# {doc.title}", ""] if doc.title else []
    level = 2
    for part in doc.parts:
        if isinstance(part, Prose):
            out.append(part.text)
            headings = re.findall(r"^(#{1,5}) ", part.text, flags=re.M)
            if headings:
                level = len(headings[-1]) + 1
            continue
        out += ["", "#" * min(level, 6) + " " + part.title, "",
                demote_headings(part.result.to_markdown(), level), ""]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip() + "\n"


def demote_headings(markdown: str, level: int) -> str:
    """Shift a result's own headings so its top one sits just below the topic heading at
    ``level`` (headings inside fenced code are left alone)."""
    lines, fence, headings = markdown.splitlines(), None, []
    for i, line in enumerate(lines):
        match = FENCE.match(line.strip())
        if match and (fence is None or line.strip().startswith(fence)):
            fence = None if fence else match["fence"]
        elif fence is None and (heading := re.match(r"^(#{1,6}) ", line)):
            headings.append((i, len(heading[1])))
    if headings:
        shift = level + 1 - min(n for _, n in headings)
        for i, n in headings:
            lines[i] = "#" * max(1, min(n + shift, 6)) + lines[i][n:]
    return "\n".join(lines)


SECTIONS = {1: "section", 2: "section", 3: "subsection", 4: "subsubsection", 5: "paragraph"}


def to_tex(doc: NotesDocument) -> str:
    """A complete LaTeX document: ``##`` → section, each topic a subsection below it.

    The file's own text is untrusted: its prose is escaped and its math re-emitted by
    :func:`derivekit.render.safetex.safe_math` (errors name the line); the results' LaTeX,
    written by derivekit, is checked for commands that read, write or run."""
    from derivekit.render import latexdoc
    evaluate(doc)
    body = []
    level = 1
    for part in doc.parts:
        if isinstance(part, Prose):
            body.append(markdown_to_latex(part.text, source=doc.source, first_line=part.line))
            headings = re.findall(r"^(#{1,5}) ", part.text, flags=re.M)
            if headings:
                level = len(headings[-1])
            continue
        command = SECTIONS[min(level + 1, 5)]
        where = f"{doc.source}:{part.line}"
        body.append(rf"\{command}{{{inline_to_latex(part.title, _user_math(where))}}}")
        body.append(result_latex(part.result))
    title = None if doc.title is None else _plain_title(doc.title)
    return latexdoc.document("\n\n".join(b for b in body if b.strip()), title=title)


def _plain_title(title: str) -> str:
    """The document title as plain text (``\title`` escapes it); Markdown marks dropped."""
    return re.sub(r"[*_`$]", "", title)


def result_latex(result) -> str:
    """A result's LaTeX for a full document.

    A derivation (or gradient, Jacobian, Hessian) is written by the renderer's document
    layout: each step a list item whose sentence wraps on the page, its equation a display
    broken at + and − to fit the line. Other results are prose with maths, so their
    Markdown is converted (its long displays broken alike).
    """
    from derivekit.calculus.steps import Derivation, MatrixOfDerivations
    from derivekit.render.safetex import check_generated
    if isinstance(result, (Derivation, MatrixOfDerivations)):
        return check_generated(result.to_latex(document=True))
    return markdown_to_latex(result.to_markdown(), heading_command="paragraph")


def default_output(path: str | Path, fmt: str) -> Path:
    path = Path(path)
    return path.with_name(path.name.rsplit(".", 1)[0] + SUFFIXES[fmt])


def build(path: str | Path, fmt: str = "markdown", output: str | Path | None = None,
          force: bool = False, tex_timeout: float | None = None,
          log: str | Path | None = None) -> tuple[Path, str | None]:
    """Render the notes file at ``path`` to ``fmt`` and write it.

    ``output`` defaults to the input's name with ``.notes.md``, ``.tex`` or ``.pdf``. An
    existing output, or a symbolic link in its place, is refused unless ``force``; its
    folder must exist. ``tex_timeout`` bounds the PDF compile (default
    :data:`derivekit.limits.TEX_TIMEOUT_S`); with ``log``, LaTeX's log of a PDF build is kept
    there (:func:`derivekit.render.latexdoc.overfull_boxes` reads it). Returns (output path,
    text written or None for a PDF).
    """
    if fmt not in FORMATS:
        raise DerivekitError(f"unknown notes format '{fmt}'", hint="use markdown, tex or pdf")
    from derivekit import files
    output = Path(output) if output is not None else default_output(path, fmt)
    if output.resolve() == Path(path).resolve():
        raise DerivekitError(f"the output {output} would overwrite the notes source",
                             hint="give another file with -o")
    files.output_path(output, force=force, what="notes")
    doc = load(path)
    if fmt == "markdown":
        text = to_markdown(doc)
    else:
        text = to_tex(doc)
    if fmt == "pdf":
        from derivekit.render.latexdoc import compile_pdf
        compile_pdf(text, output, timeout=tex_timeout, force=force, log=log)
        return output, None
    files.write_text(output, text, force=force)
    return output, text


# --------------------------------------------------------------------------------------------
# Markdown prose → LaTeX (the subset notes use)

_INLINE = re.compile(
    r"(?P<escape>\\[\\`*_{}\[\]()#+\-.!$<>|])"
    r"|(?P<code>`[^`]+`)"
    r"|(?P<dmath>\$\$.+?\$\$)"
    r"|(?P<math>(?<![\\$])\$[^$\n]+?\$)"
    r"|(?P<pmath>\\\(.+?\\\))"
    r"|(?P<bold>\*\*.+?\*\*)"
    r"|(?P<italic>(?<![\w*])\*[^*\s][^*]*?\*(?!\*)|(?<![\w_])_[^_\s][^_]*?_(?![\w_]))"
    r"|(?P<link>\[[^\[\]]+\]\([^()\s]+\))")  # no brackets inside: linear on '[[[[…' lines


def _generated_math(math: str, display: bool) -> str:
    """Math written by derivekit's renderers: kept, once checked for dangerous commands; a
    long inline formula may break between its factors (``\\*``, a × at the break)."""
    from derivekit.render.safetex import check_generated
    from derivekit.render.texbreak import discretionary_times, math_width
    from derivekit.render.walk import INLINE_BREAK_EM
    math = check_generated(math)
    return math if display or math_width(math) <= INLINE_BREAK_EM else discretionary_times(math)


def _user_math(where: str):
    """Math from the notes file (``where`` is its file:line): re-emitted from allowed tokens."""
    from derivekit.render.safetex import safe_math

    def convert(math: str, display: bool) -> str:
        return safe_math(math, where)
    return convert


def inline_to_latex(text: str, math=None) -> str:
    """Convert one line's inline Markdown; prose is escaped, and math goes through ``math``
    (``math(fragment, display) -> latex``; default: derivekit's own, checked output)."""
    from derivekit.render.latexdoc import escape_text
    from derivekit.render.safetex import safe_url
    math = math or _generated_math
    out = []
    pos = 0
    for m in _INLINE.finditer(text):
        out.append(escape_text(text[pos: m.start()]))
        token = m.group(0)
        if m["escape"]:
            out.append(escape_text(token[1]))
        elif m["code"]:
            out.append(r"\texttt{" + escape_text(token[1:-1]) + "}")
        elif m["dmath"]:
            generated = math is _generated_math
            out.append(display_block(math(token[2:-2], True), LINE_EM if generated else None))
        elif m["math"]:
            out.append("$" + math(token[1:-1], False) + "$")
        elif m["pmath"]:
            out.append(r"\(" + math(token[2:-2], False) + r"\)")
        elif m["bold"]:
            out.append(r"\textbf{" + inline_to_latex(token[2:-2], math) + "}")
        elif m["italic"]:
            out.append(r"\emph{" + inline_to_latex(token[1:-1], math) + "}")
        else:
            label, url = re.fullmatch(r"\[([^\[\]]+)\]\(([^()\s]+)\)", token).groups()
            safe = safe_url(url)
            if safe is None:  # file:, run:, javascript: … are shown, never linked
                out.append(inline_to_latex(label, math) + r" (\texttt{" + escape_text(url) + "})")
            else:
                out.append(r"\href{" + safe + "}{" + inline_to_latex(label, math) + "}")
        pos = m.end()
    out.append(escape_text(text[pos:]))
    return "".join(out)


_LIST_ITEM = re.compile(r"^(\s*)([-*+]|\d+[.)])\s+(.*)$")
MAX_LIST_DEPTH = 4  # LaTeX's limit for nested itemize/enumerate
_TABLE_RULE = re.compile(r"^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?$")


def code_block(lines: list[str]) -> str:
    """A fenced code block, escaped line by line in ``alltt`` (where only ``\\``, ``{`` and
    ``}`` are special, and escaped), so that no line of it can end the block or run TeX."""
    from derivekit.render.latexdoc import escape_text
    body = "\n".join(escape_text(line.replace("\t", "    ")) for line in lines)
    return "\\begin{alltt}\n" + body + "\n\\end{alltt}"


def display_block(math: str, width: float | None = None) -> str:
    """Display maths from Markdown ``$$ … $$``: ``align*`` kept, rows split by a top-level
    ``\\\\`` go into ``gather*``, anything else into ``\\[ … \\]``. With ``width`` (em;
    given for derivekit's own maths) an equation wider than that is broken into
    ``multline*`` lines by :func:`derivekit.render.texbreak.break_equation`."""
    math = math.strip()
    if re.match(r"\\begin\{(align|gather|equation|multline)\*?\}", math):
        return math
    depth, top_level_break = 0, False
    for token in re.findall(r"\\begin\{|\\end\{|\\\\", math):
        depth += token == "\\begin{"
        depth -= token == "\\end{"
        top_level_break |= token == "\\\\" and depth == 0
    if top_level_break:
        return "\\begin{gather*}\n" + math + "\n\\end{gather*}"
    if width is not None and "&" not in math:
        from derivekit.render.texbreak import break_equation, split_relation
        lhs, rhs = split_relation(math) or ("", math)
        return break_equation(lhs, rhs, width)
    return "\\[\n" + math + "\n\\]"


def _table(rows: list[str], math) -> str:
    def cells(line: str) -> list[str]:
        return [c.strip() for c in line.strip().strip("|").split("|")]
    head, rule, body = cells(rows[0]), cells(rows[1]), [cells(r) for r in rows[2:]]
    align = "".join("r" if c.endswith(":") and not c.startswith(":") else
                    "c" if c.startswith(":") and c.endswith(":") else "l" for c in rule)
    line = lambda row: " & ".join(inline_to_latex(c, math) for c in row) + r" \\"  # noqa: E731
    return "\n".join([rf"\begin{{longtable}}{{{align}}}", r"\toprule", line(head), r"\midrule",
                      r"\endhead", *map(line, body), r"\bottomrule", r"\end{longtable}"])


def markdown_to_latex(text: str, heading_command: str | None = None, *,
                      source: str | None = None, first_line: int = 1) -> str:
    """Headings, paragraphs, nested lists, tables, block quotes, fenced code and ``$$``
    blocks → LaTeX. ``heading_command`` (e.g. ``"paragraph"``) replaces the sectioning of
    every heading, for Markdown nested inside a section.

    With ``source`` (the notes file's name; ``text`` starts at its line ``first_line``) the
    text is the user's: its math must pass :func:`derivekit.render.safetex.safe_math`, and
    errors name the line. Without, it is derivekit's own output (checked, kept)."""
    out: list[str] = []
    lines = text.splitlines()
    lists: list[tuple[int, str]] = []   # open list environments: (indent, env)

    def close_lists(to_indent: int = -1):
        while lists and lists[-1][0] > to_indent:
            env = lists.pop()[1]
            if env:  # None: a level past LaTeX's four, shown at the fourth
                out.append(rf"\end{{{env}}}")
            if not lists:
                out.append("")

    def math_at(index: int):
        return _generated_math if source is None else _user_math(f"{source}:{first_line + index}")

    i = 0
    while i < len(lines):
        line = lines[i]
        math = math_at(i)
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        in_item = bool(lists) and (indent > lists[-1][0] or not stripped)
        if not in_item and not _LIST_ITEM.match(line):
            close_lists()
        fence = FENCE.match(stripped)
        if fence:
            end = next((j for j in range(i + 1, len(lines))
                        if lines[j].strip().startswith(fence["fence"])), len(lines))
            out.append(code_block(lines[i + 1: end]))
            i = end + 1
            continue
        if stripped.startswith("$$"):
            if stripped.endswith("$$") and len(stripped) > 4:
                end, math = i, stripped[2:-2]
            else:
                end = next((j for j in range(i + 1, len(lines)) if lines[j].strip().endswith("$$")),
                           len(lines) - 1)
                math = "\n".join(lines[i: end + 1]).strip()[2:].rstrip()
                math = math[:-2] if math.endswith("$$") else math
            width = None if source is not None else LINE_EM - LIST_INDENT_EM * len(lists)
            out.append(display_block(math_at(i)(math, True), width))
            i = end + 1
            continue
        if stripped.startswith("|") and i + 1 < len(lines) and _TABLE_RULE.match(lines[i + 1].strip()):
            end = i + 2
            while end < len(lines) and lines[end].strip().startswith("|"):
                end += 1
            out.append(_table(lines[i:end], math))
            i = end
            continue
        heading = re.match(r"^(#{1,6})\s+(.*)$", stripped)
        item = _LIST_ITEM.match(line)
        if heading:
            command = heading_command or SECTIONS[min(len(heading[1]), 5)]
            star = "*" if heading_command else ""
            # \paragraph runs into the text after it: end its own paragraph so steps start below
            run_in = r"\leavevmode\par" if command == "paragraph" else ""
            out.append(rf"\{command}{star}{{{inline_to_latex(heading[2].strip(), math)}}}{run_in}")
        elif item:
            env = "enumerate" if item[2][0].isdigit() else "itemize"
            close_lists(indent)
            if lists and lists[-1][0] == indent and lists[-1][1] not in (env, None):
                out.append(rf"\end{{{lists.pop()[1]}}}")
            if not lists or lists[-1][0] < indent:
                deep = sum(1 for _, e in lists if e) >= MAX_LIST_DEPTH
                if not deep:
                    out.append(rf"\begin{{{env}}}")
                lists.append((indent, None if deep else env))
            out.append(r"\item " + inline_to_latex(item[3], math))
        elif stripped.startswith(">"):
            out.append(r"\begin{quote}" + inline_to_latex(stripped.lstrip("> "), math) + r"\end{quote}")
        elif not stripped:
            out.append("" if not lists else "%")
        else:
            out.append(inline_to_latex(stripped, math))
        i += 1
    close_lists()
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip()
