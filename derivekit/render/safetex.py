"""Math from an untrusted notes file, made safe for TeX: tokenised, checked, re-emitted.

A notes file is meant to be shared, so its ``$…$`` and ``$$…$$`` math must not be able to
read files (``\\input``), write them or run commands (``\\write18``), or loop forever
(``\\def\\loop{\\loop}\\loop``). :func:`safe_math` reads the math into TeX tokens, accepts only
control words of a fixed table of mathematical commands (:data:`MATH_COMMANDS`) and
environments (:data:`MATH_ENVIRONMENTS`), balanced braces, and none of TeX's programming
characters (``#`` parameters, ``%`` comments, ``^^`` character codes); it writes the formula
back from those tokens, so nothing of the source is copied raw. Anything else is refused
with a :class:`DerivekitError` naming the command and a hint.

:func:`check_generated` is the weaker check for TeX that derivekit's own printers wrote:
it refuses the primitives that read, write, define or execute, whatever produced them.
"""

from __future__ import annotations

import re

from derivekit.errors import DerivekitError

_GREEK = ("alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda "
          "mu nu xi pi varpi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega "
          "Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega")
_SYMBOLS = ("partial nabla infty ell hbar imath jmath aleph emptyset varnothing prime top "
            "intercal bot forall exists neg lnot angle triangle Box square surd")
_OPERATORS = ("cdot times div pm mp ast star circ bullet odot otimes oplus ominus oslash wedge "
              "vee cap cup setminus sqcup sqcap dagger ddagger amalg")
_RELATIONS = ("le leq ge geq ne neq equiv approx sim simeq cong propto in notin ni subset "
              "supset subseteq supseteq ll gg to gets mapsto rightarrow leftarrow "
              "leftrightarrow Rightarrow Leftarrow Leftrightarrow implies impliedby iff "
              "longrightarrow longleftarrow longmapsto uparrow downarrow mid parallel perp "
              "models vdash dashv coloneqq triangleq doteq prec succ preceq succeq")
_BIG = "sum prod coprod int iint iiint oint bigcup bigcap bigoplus bigotimes bigodot bigvee bigwedge"
_FUNCTIONS = ("sin cos tan cot sec csc arcsin arccos arctan sinh cosh tanh coth exp log ln lg "
              "det dim ker max min sup inf lim liminf limsup arg deg gcd Pr hom tr sgn")
_DELIMITERS = ("left right big Big bigg Bigg bigl bigr Bigl Bigr biggl biggr middle langle "
               "rangle lfloor rfloor lceil rceil vert Vert lvert rvert lVert rVert | { } "
               "lbrace rbrace backslash")
_LAYOUT = ("frac dfrac tfrac cfrac binom dbinom tbinom sqrt overline underline overbrace "
           "underbrace hat widehat bar tilde widetilde vec dot ddot acute grave breve check "
           "mathbf mathbb mathcal mathrm mathit mathsf mathtt mathfrak mathscr boldsymbol bm "
           "operatorname text textrm textit textbf mathnormal pmb displaystyle textstyle "
           "scriptstyle quad qquad , ; : ! space ldots cdots vdots ddots dots dotsc dotsb "
           "stackrel overset underset substack limits nolimits cancel boxed color "
           "begin end hline tag notag nonumber")
#: control words and symbols a notes file may use in its math
MATH_COMMANDS = frozenset(" ".join((_GREEK, _SYMBOLS, _OPERATORS, _RELATIONS, _BIG, _FUNCTIONS,
                                    _DELIMITERS, _LAYOUT)).split()) | {"\\", "_", "&", "$", "%", "#"}
#: environments a notes file may open inside its math
MATH_ENVIRONMENTS = frozenset(
    "matrix pmatrix bmatrix Bmatrix vmatrix Vmatrix smallmatrix cases aligned gathered "
    "split array align align* gather gather* equation equation* multline multline*".split())
#: primitives and macros that read, write, define or run, refused even in derivekit's own output
_DANGEROUS = re.compile(
    r"\\(input|include|includeonly|InputIfFileExists|openin|openout|read|readline|write|"
    r"immediate|special|def|edef|gdef|xdef|let|futurelet|catcode|csname|expandafter|"
    r"newcommand|renewcommand|providecommand|DeclareRobustCommand|newenvironment|"
    r"renewenvironment|loop|repeat|directlua|ShellEscape|pdfshellescape|usepackage|"
    r"RequirePackage|documentclass|endinput|jobname|scantokens|everyjob|everypar|"
    r"newwrite|newread|verbatiminput|lstinputlisting|pdffiledump|pdfobj)(?![A-Za-z])|\^\^")

_TOKEN = re.compile(r"\\(?P<word>[A-Za-z]+)|\\(?P<symbol>.)|(?P<char>[\s\S])")
#: characters that mean something to TeX's programming layer, never to a formula
_REFUSED_CHARS = {"#": "a macro parameter", "%": "a comment", "\\": "an unfinished command",
                  "$": "a math delimiter"}
MAX_MATH_CHARS = 10_000


def _refuse(what: str, where: str, hint: str) -> DerivekitError:
    return DerivekitError(f"{where}: {what}", hint=hint)


def safe_math(math: str, where: str = "math") -> str:
    """``math`` written back from its tokens once every token is allowed; else an error
    naming the first refused token (``where`` says which file and line)."""
    if len(math) > MAX_MATH_CHARS:
        raise _refuse(f"a formula of {len(math)} characters (the limit is {MAX_MATH_CHARS})",
                      where, "split it into several formulas")
    out: list[str] = []
    depth, environments = 0, []
    tokens = list(_TOKEN.finditer(math))
    i = 0
    while i < len(tokens):
        token = tokens[i]
        word, symbol, char = token["word"], token["symbol"], token["char"]
        if word is not None or symbol is not None:
            name = word if word is not None else symbol
            if name not in MATH_COMMANDS and not (symbol is not None and symbol in " ,;:!|{}"):
                raise _refuse(rf"the math uses \{name}, which notes do not allow", where,
                              "notes math may use the usual mathematical commands (\\frac, "
                              "\\sum, Greek letters, \\mathbf, matrices); write anything else "
                              "as prose")
            if name in ("begin", "end"):
                env, i = _environment_name(tokens, i + 1, math, where)
                if name == "begin":
                    environments.append(env)
                elif not environments or environments.pop() != env:
                    raise _refuse(rf"\end{{{env}}} does not close the environment opened last",
                                  where, r"pair every \begin{…} with its \end{…}")
                out.append(rf"\{name}{{{env}}}")
                continue
            # a space ends a control word, and keeps a line break (\\) apart from letters
            out.append(rf"\{name}" + (" " if word is not None or name == "\\" else ""))
        elif char == "^" and i + 1 < len(tokens) and tokens[i + 1]["char"] == "^":
            raise _refuse("'^^' (a TeX character code) in the math", where,
                          "write a single ^ for a power")
        elif char in _REFUSED_CHARS:
            raise _refuse(f"{char!r} ({_REFUSED_CHARS[char]}) in the math", where,
                          rf"write \{char} for a literal {char}" if char != "\\" else
                          "finish the command, or write \\backslash")
        elif char == "{":
            depth += 1
            out.append(char)
        elif char == "}":
            depth -= 1
            if depth < 0:
                raise _refuse("a '}' with no '{' before it in the math", where,
                              "balance the braces")
            out.append(char)
        elif char in "\r\n\t":
            out.append(" " if char != "\n" else "\n")
        elif ord(char) < 32 or ord(char) == 127:
            raise _refuse(f"the control character {ord(char):#04x} in the math", where,
                          "remove it")
        else:
            out.append(char)
        i += 1
    if depth:
        raise _refuse(f"{depth} '{{' never closed in the math", where, "balance the braces")
    if environments:
        raise _refuse(rf"\begin{{{environments[-1]}}} is never closed in the math", where,
                      rf"add \end{{{environments[-1]}}}")
    return "".join(out).rstrip()


def _environment_name(tokens: list[re.Match], i: int, math: str, where: str) -> tuple[str, int]:
    """The ``{name}`` after ``\\begin``/``\\end`` (spaces allowed before it) and the index after."""
    while i < len(tokens) and (tokens[i]["char"] or "x") in " \t":
        i += 1
    name = []
    if i < len(tokens) and tokens[i]["char"] == "{":
        i += 1
        while i < len(tokens) and tokens[i]["char"] not in (None, "}") and len(name) < 20:
            name.append(tokens[i]["char"])
            i += 1
        if i < len(tokens) and tokens[i]["char"] == "}" and "".join(name) in MATH_ENVIRONMENTS:
            return "".join(name), i + 1
    raise _refuse(rf"the environment {{{''.join(name)}}} is not allowed in notes math", where,
                  "use one of: " + ", ".join(sorted(MATH_ENVIRONMENTS)))


def check_generated(tex: str, where: str = "generated LaTeX") -> str:
    """``tex`` unchanged when it holds no command that reads, writes, defines or runs."""
    found = _DANGEROUS.search(tex)
    if found:
        raise DerivekitError(f"{where} contains {found.group(0)!r}, which derivekit never "
                             "writes into a document", hint="report this input as a bug")
    return tex


#: URL schemes a notes link may use; others (file:, run:, javascript:) are shown as text
LINK_SCHEMES = ("http://", "https://", "mailto:")
_URL_SAFE = re.compile(r"[A-Za-z0-9\-._:/?=@+,;!*'()~]")


def safe_url(url: str) -> str | None:
    """``url`` percent-encoded for ``\\href`` (``#`` and ``%`` TeX-escaped), or None when its
    scheme is not one of :data:`LINK_SCHEMES`."""
    if not url.lower().startswith(LINK_SCHEMES):
        return None
    encoded = []
    for ch in url:
        if ch == "#":
            encoded.append(r"\#")
        elif _URL_SAFE.fullmatch(ch):
            encoded.append(ch)
        else:
            encoded.extend(rf"\%{byte:02X}" for byte in ch.encode("utf-8"))
    return "".join(encoded)
