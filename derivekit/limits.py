"""Safety limits on input size and a deadline for long work.

The deadline is enforced two ways: cooperatively (engines call :func:`check_deadline` in
their loops) and, in the main thread, by ``SIGALRM`` so that a long SymPy call is cut too.
"""

from __future__ import annotations

import contextvars
import signal
import threading
import time

from derivekit.errors import LimitError

MAX_INPUT_CHARS = 20_000
MAX_NESTING = 200
MAX_TOKENS = 5_000
MAX_CHARS_CEILING = 10_000_000  # the most that max_chars= / --max-chars may raise the cap to
MAX_NUMBER_DIGITS = 60
MAX_INTEGER_EXPONENT = 1_000
MAX_POWER_RESULT_DIGITS = 1_000  # a power of two numbers may have at most this many digits
MAX_LATEX_NESTING = 60  # brackets and braces together; the ANTLR LaTeX reader slows on depth
MAX_LATEX_TOKENS = 1_000  # LaTeX is read by a slower, recursive converter; plain text allows more
DEFAULT_DEADLINE_S = 10.0
MAX_TIMEOUT_S = 3_600.0  # the largest --timeout / deadline accepted (finite, positive)
PARSE_DEADLINE_S = 10.0  # dk.parse runs under this deadline unless a shorter one is active
# big-integer work the parser refuses to do eagerly
MAX_FACTORIAL_ARGUMENT = 1_000  # n! evaluated only up to this n (about 2,568 digits)
# files and data
MAX_NOTES_BYTES = 1_000_000  # a notes file
MAX_CSV_BYTES = 200_000_000  # a CSV file read by pca or fit
MAX_CSV_ROWS = 1_000_000  # rows of a CSV file (header included)
TEX_TIMEOUT_S = 60.0  # latexmk / pdflatex on one notes document
# numeric work
MAX_POINTS = 10_000  # gradcheck --points
MAX_STEPS = 1_000_000  # descend / fit --steps

_deadline_at: float | None = None


# --- the input cap, raised for trusted input ------------------------------------------------

_raised_cap: contextvars.ContextVar[int | None] = contextvars.ContextVar("max_chars", default=None)


def max_chars_value(value, option: str = "max_chars") -> int:
    """``value`` as an input cap: a whole number of characters from 1 to
    :data:`MAX_CHARS_CEILING`; anything else (0, negative, a float, text, a bool) is a
    clear error."""
    import numbers
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise LimitError(f"{option} must be a whole number of characters, not {value!r}",
                         hint="e.g. 50000")
    if not 1 <= value <= MAX_CHARS_CEILING:
        raise LimitError(f"{option} must be from 1 to {MAX_CHARS_CEILING:,} characters, not {value:,}",
                         hint=f"e.g. 50000; text past {MAX_CHARS_CEILING:,} characters is not "
                              "read, generate a SymPy expression instead")
    return int(value)


def input_limits(max_chars: int | None = None) -> tuple[int, int]:
    """The (characters, tokens) caps for one input: ``max_chars`` when given, else the cap
    raised by an enclosing :class:`input_cap`, else :data:`MAX_INPUT_CHARS`. A cap raised
    above the default allows one token per two characters (generated text such as a
    Rosenbrock sum has about that many); otherwise the token cap is :data:`MAX_TOKENS`."""
    chars = _raised_cap.get() if max_chars is None else max_chars_value(max_chars)
    if chars is None:
        chars = MAX_INPUT_CHARS
    tokens = max(MAX_TOKENS, chars // 2) if chars > MAX_INPUT_CHARS else MAX_TOKENS
    return chars, tokens


def parse_deadline_s(chars: int) -> float:
    """The parse deadline for an input cap: :data:`PARSE_DEADLINE_S` per
    :data:`MAX_INPUT_CHARS` characters allowed (never less than PARSE_DEADLINE_S, never more
    than :data:`MAX_TIMEOUT_S`); an enclosing shorter deadline (--timeout) still wins."""
    return min(MAX_TIMEOUT_S, PARSE_DEADLINE_S * max(1.0, chars / MAX_INPUT_CHARS))


class input_cap:
    """``with input_cap(n):`` every parse inside the body allows ``n`` characters (None:
    the default cap). For trusted input, such as generated expressions: the CLI's
    ``--max-chars`` runs its command in one. Per thread and task (a context variable)."""

    def __init__(self, max_chars: int | None, option: str = "max_chars"):
        self.max_chars = None if max_chars is None else max_chars_value(max_chars, option)

    def __enter__(self):
        self.token = _raised_cap.set(self.max_chars) if self.max_chars is not None else None
        return self

    def __exit__(self, *exc) -> bool:
        if self.token is not None:
            _raised_cap.reset(self.token)
        return False


def timeout_seconds(value, option: str = "the timeout") -> float:
    """``value`` as a time limit in seconds: a positive finite number up to
    :data:`MAX_TIMEOUT_S`; anything else (0, negative, inf, nan) is a clear error."""
    import math
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise LimitError(f"{option} must be a number of seconds, not {value!r}",
                         hint="e.g. 10") from None
    if not (math.isfinite(seconds) and 0 < seconds <= MAX_TIMEOUT_S):
        raise LimitError(f"{option} must be more than 0 and at most {MAX_TIMEOUT_S:g} seconds, "
                         f"not {value:g}" if isinstance(value, (int, float)) else
                         f"{option} must be more than 0 and at most {MAX_TIMEOUT_S:g} seconds",
                         hint="e.g. 10; raise derivekit.limits.MAX_TIMEOUT_S for longer work")
    return seconds


def too_deep_is_a_limit(func):
    """Decorate a public operation: Python's recursion limit, hit by a deeply nested
    expression in SymPy, symengine or a printer, becomes a :class:`LimitError`."""
    import functools

    @functools.wraps(func)
    def guarded(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except RecursionError:
            raise LimitError("the expression is nested too deeply to work with",
                             hint=f"keep nesting (calls, power towers) well under "
                                  f"{MAX_NESTING} levels, or split it with intermediate "
                                  "variables") from None
    return guarded


def check_deadline() -> None:
    """Raise :class:`LimitError` when the active deadline has passed."""
    if _deadline_at is not None and time.monotonic() > _deadline_at:
        raise LimitError("the work ran past its deadline",
                         hint="simplify the input, or raise the limit with --timeout")


class _AlarmFired(BaseException):
    """Raised by the alarm handler. A BaseException, so that library code catching
    ``ValueError`` or ``Exception`` cannot swallow it; :func:`deadline` turns it into a
    :class:`LimitError` at its own boundary."""


class deadline:
    """Run the body of ``with deadline(seconds):`` under a deadline (None: no deadline).

    Nested deadlines keep the earlier of the two. An interval timer that was already
    running (an enclosing deadline, or a test runner's time-out) keeps its own handler: it
    is called if it fires first, and re-armed with its remaining time on exit unless it
    already fired. A class rather than a generator, so that an enclosing deadline's alarm
    landing in this one's clean-up still reaches the enclosing ``__exit__``.
    """

    def __init__(self, seconds: float | None = DEFAULT_DEADLINE_S):
        self.seconds = None if seconds is None else timeout_seconds(seconds)
        self.alarm = _AlarmFired()
        self.armed = False
        self.fired = False
        self.outer_handler = None
        self.outer_delay = 0.0
        self.outer_fired = False

    def _on_alarm(self, signum, frame):
        if self.armed and time.monotonic() >= self.ends - 1e-3:
            # fire again shortly: Python only reports an exception raised inside a gc
            # callback or a __del__, so this one may be swallowed; __exit__ stops the timer
            self.fired = True
            signal.setitimer(signal.ITIMER_REAL, 0.01)
            raise self.alarm
        if self.fired:  # that repeat, landing while __exit__ cleans up
            return
        if callable(self.outer_handler):  # the outer timer fired first: its handler decides
            self.outer_fired = True
            self.outer_handler(signum, frame)

    def __enter__(self):
        global _deadline_at
        if self.seconds is None:
            return self
        self.previous = _deadline_at
        self.started = time.monotonic()
        self.ends = self.started + self.seconds
        _deadline_at = self.ends if self.previous is None else min(self.previous, self.ends)
        self.use_alarm = (threading.current_thread() is threading.main_thread()
                          and hasattr(signal, "setitimer"))
        if not self.use_alarm:
            return self
        self.outer_delay, _ = signal.getitimer(signal.ITIMER_REAL)
        self.outer_handler = signal.signal(signal.SIGALRM, self._on_alarm)
        try:
            self.armed = True
            first = self.seconds if not self.outer_delay else min(self.seconds, self.outer_delay)
            signal.setitimer(signal.ITIMER_REAL, first)
            return self
        except _AlarmFired as fired:  # a tiny deadline can expire before the body starts
            self.__exit__(type(fired), fired, None)
            raise  # pragma: no cover - __exit__ has raised LimitError (or the outer alarm)

    def __exit__(self, exc_type, exc, tb):
        global _deadline_at
        if self.seconds is None:
            return False
        try:
            self.armed = False
            if self.use_alarm:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, self.outer_handler)
                if self.outer_delay and not self.outer_fired:
                    remaining = self.outer_delay - (time.monotonic() - self.started)
                    signal.setitimer(signal.ITIMER_REAL, max(remaining, 1e-3))
        finally:
            _deadline_at = self.previous
        if exc is self.alarm:
            raise LimitError(f"the work ran past its deadline of {self.seconds:g} s",
                             hint="simplify the input, or raise the limit with --timeout") from None
        return False
