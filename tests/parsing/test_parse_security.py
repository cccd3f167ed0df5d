"""dk.parse never evaluates user text, and refuses denial-of-service input quickly.

The timeout markers are hang guards, not speed assertions.
"""

from __future__ import annotations

import builtins

import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from derivekit.errors import LimitError, ParseError
from derivekit.parsing.parse import InputLimitError, parse

CODE_PAYLOADS = [
    "__import__('os').system('touch CANARY')",
    "__import__(\"os\").system(\"touch CANARY\")",
    "().__class__.__bases__[0].__subclasses__()",
    "lambda: 0",
    "lambda x: __import__('os').system('touch CANARY')",
    "getattr(x, 'y')",
    "eval('1')",
    "exec('open(\"CANARY\", \"w\")')",
    "open('CANARY', 'w')",
    "x.__class__",
    "sigmoid.__globals__",
    "[c for c in ().__class__.__base__.__subclasses__()]",
    "os.system('touch CANARY')",
]

LATEX_PAYLOADS = [rf"\text{{{p}}}" for p in CODE_PAYLOADS] + [
    rf"\mathrm{{{p}}}" for p in CODE_PAYLOADS] + [
    rf"\operatorname{{{p}}}" for p in CODE_PAYLOADS] + [
    r"\mathrm{eval}(1)", r"\operatorname{getattr}(x, y)", r"\text{exec}(x)",
    r"x + \text{__import__}", r"\frac{\text{eval('1')}}{2}", r"\sigma(\text{lambda: 0})",
]


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    """Run in an empty directory and fail if a canary file appears there."""
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    assert not (tmp_path / "CANARY").exists()


@pytest.fixture
def no_eval(monkeypatch):
    """Make every string-evaluating entry point fail loudly while parsing."""
    from derivekit.parsing.text import text_parser
    text_parser()  # build the grammar and import lazily-loaded modules first: the import
    parse(r"\sigma(x) + \frac{1}{2}"), parse(r"\begin{bmatrix}1\end{bmatrix}")  # uses exec
    for warm_up in (r"\foo(x)", "x +", r"x \in \{1, 2\}"):
        try:
            parse(warm_up)
        except ParseError:
            pass

    forbid_string_evaluation(monkeypatch)


def forbid_string_evaluation(monkeypatch) -> None:
    import sympy.parsing.sympy_parser as sympy_parser

    def refuse(*args, **kwargs):
        raise AssertionError(f"string evaluation reached: {args[:1]!r}")

    monkeypatch.setattr(sympy_parser, "parse_expr", refuse)
    monkeypatch.setattr(sympy_parser, "eval_expr", refuse)
    monkeypatch.setattr(builtins, "eval", refuse)
    monkeypatch.setattr(builtins, "exec", refuse)


@pytest.mark.timeout(10)
@pytest.mark.parametrize("payload", CODE_PAYLOADS)
def test_code_payloads_in_text_are_rejected(payload, in_tmp, no_eval):
    with pytest.raises(ParseError):
        parse(payload)
    with pytest.raises(ParseError):
        parse(payload, syntax="text")


@pytest.mark.timeout(10)
@pytest.mark.parametrize("payload", LATEX_PAYLOADS)
def test_code_payloads_in_latex_are_rejected(payload, in_tmp, no_eval):
    with pytest.raises(ParseError):
        parse(payload)


@pytest.mark.timeout(20)
def test_valid_input_never_reaches_string_evaluation(in_tmp, monkeypatch):
    """Numbers included: latex2sympy would sympify numeral text; derivekit holds them."""
    sources = [r"\frac{1}{1+e^{-(wx+b)}}", r"3.5 x^2 + \sqrt[3]{8}", r"\sum_{i=1}^{10} x_i",
               r"\begin{bmatrix}1&2\\3&4\end{bmatrix}", r"\operatorname{LeakyReLU}(x, 0.01)",
               "sigmoid(w*x + b) + 0.5", r"\frac{\partial^2}{\partial x^2} x^3"]
    expected = [parse(source) for source in sources]  # first run: lazy imports (which exec)
    forbid_string_evaluation(monkeypatch)
    assert [parse(source) for source in sources] == expected


DOS_INPUTS = [
    ("x" * 1_000_000, "characters"),
    ("1" * 1_000_000, "characters"),
    ("(" * 10_000 + "x" + ")" * 10_000, "characters"),
    ("(" * 5_000 + "x" + ")" * 5_000, "tokens"),
    ("(" * 300 + "x" + ")" * 300, "nest"),
    ("-" * 1_000 + "x", "nests"),
    ("x^" * 1_000 + "x", "nests"),
    ("9^9^9^9", "exponent"),
    ("(x+1)^(10^10)", "exponent"),
    ("10^10^10", "exponent"),
    ("2^10000", "exponent"),
    ("(10^100)^999", "digits"),
    ("1" * 61, "digits"),
    ("1e999999999", "exponent"),
    ("x + " * 3_000 + "x", "tokens"),
    (r"9^{9^{9^{9}}}", "exponent"),
    (r"(x+1)^{10^{10}}", "exponent"),
    (r"10^{10^{10}}", "exponent"),
    ("\\sqrt{" * 100 + "x" + "}" * 100, "nest"),
    ("\\left(" * 150 + "x" + "\\right)" * 150, "nest"),
    ("\\frac{1}{" + "9" * 1000 + "}", "digits"),
    ("x^{" * 70 + "x" + "}" * 70, "nest"),
    ("+".join([r"\sigma(x)"] * 600), "tokens"),
    (r"\frac{1}{2}" + " + x" * 600, "tokens"),
]


@pytest.mark.timeout(5)
@pytest.mark.parametrize("source, words", DOS_INPUTS, ids=[w + str(i) for i, (_, w) in enumerate(DOS_INPUTS)])
def test_denial_of_service_input_is_refused(source, words, in_tmp):
    with pytest.raises(ParseError) as info:
        parse(source)
    assert isinstance(info.value, LimitError)
    assert words in str(info.value)


@pytest.mark.timeout(10)
def test_long_but_flat_input_is_fine():
    """A flat sum is not 'nesting': 2000 terms parse (within the token limit)."""
    result = parse(" + ".join(f"x_{i}" for i in range(2_000)))
    assert len(result.args) == 2_000


@pytest.mark.timeout(10)
def test_long_latex_is_refused_before_the_reader_runs():
    with pytest.raises(InputLimitError, match="plain text"):
        parse(" + ".join(["x"] * 1_500), syntax="latex")


PIECES = list("xyzwb0123456789.+-*/^()[]{},= _eE|'") + [
    "sigmoid(", "log(", "max(", "f(", "\\frac", "\\sigma", "\\sum_", "\\hat{", "\\mathbf{",
    "\\|", "\\left(", "\\right)", "\\operatorname{ReLU}", "\\sqrt", "^{", "_{", "\\partial",
    "\\cdot", "\\log", "e^", "\\begin{bmatrix}", "\\end{bmatrix}", "&", "\\\\", "\\text{",
    "\\lambda", "\\theta", "__", "lambda", "import", "9^9^9"]


@pytest.mark.timeout(60)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=25).map("".join),
       st.sampled_from(["auto", "text", "latex"]))
def test_any_input_gives_an_expression_or_a_parse_error(source, syntax):
    """Fuzzing: nothing but a SymPy object or a ParseError ever comes out."""
    try:
        result = parse(source, syntax=syntax)
    except ParseError:
        return
    assert isinstance(result, (sp.Basic, sp.MatrixBase))


@pytest.mark.timeout(10)
def test_a_deadline_during_parsing_stays_a_limit_error(monkeypatch):
    """The CLI runs parse + derive under limits.deadline(); its LimitError must not be
    reworded into 'could not read the LaTeX'."""
    import latex2sympy2_extended.latex2sympy2 as reader

    from derivekit.errors import LimitError as DeadlineError

    def out_of_time(*args, **kwargs):
        raise DeadlineError("the work ran past its deadline of 1 s")

    monkeypatch.setattr(reader, "latex2sympy", out_of_time)
    with pytest.raises(DeadlineError, match="deadline"):
        parse(r"\sigma(x) + 1")
