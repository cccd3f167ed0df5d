"""Safety limits on input size and a deadline for long work.

The deadline is enforced two ways: cooperatively (engines call :func:`check_deadline` in
their loops) and, in the main thread, by ``SIGALRM`` so that a long SymPy call is cut too.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time

from .errors import LimitError

MAX_INPUT_CHARS = 20_000
MAX_NESTING = 200
MAX_TOKENS = 5_000
MAX_NUMBER_DIGITS = 60
MAX_INTEGER_EXPONENT = 1_000
MAX_POWER_RESULT_DIGITS = 1_000  # a power of two numbers may have at most this many digits
MAX_LATEX_NESTING = 60  # brackets and braces together; the ANTLR LaTeX reader slows on depth
MAX_LATEX_TOKENS = 1_000  # LaTeX is read by a slower, recursive converter; plain text allows more
DEFAULT_DEADLINE_S = 10.0

_deadline_at: float | None = None


def check_deadline() -> None:
    """Raise :class:`LimitError` when the active deadline has passed."""
    if _deadline_at is not None and time.monotonic() > _deadline_at:
        raise LimitError("the work ran past its deadline",
                         hint="simplify the input, or raise the limit with --timeout")


class _AlarmFired(BaseException):
    """Raised by the alarm handler. A BaseException, so that library code catching
    ``ValueError`` or ``Exception`` cannot swallow it; :func:`deadline` turns it into a
    :class:`LimitError` at its own boundary."""


@contextlib.contextmanager
def deadline(seconds: float | None = DEFAULT_DEADLINE_S):
    """Run the body under a deadline of ``seconds`` (None: no deadline).

    Nested deadlines keep the earlier of the two. An interval timer that was already
    running (an enclosing deadline, or a test runner's time-out) keeps its own handler and
    is re-armed with its remaining time on exit.
    """
    global _deadline_at
    if seconds is None:
        yield
        return
    previous = _deadline_at
    started = time.monotonic()
    ours = started + seconds
    alarm = _AlarmFired()
    use_alarm = threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")
    outer_delay = 0.0
    outer_handler = None

    armed = [True]

    def on_alarm(signum, frame):
        if armed[0] and time.monotonic() >= ours - 1e-3:
            raise alarm
        if callable(outer_handler):  # the outer timer fired first: its handler decides
            outer_handler(signum, frame)

    try:
        _deadline_at = ours if previous is None else min(previous, ours)
        if use_alarm:
            outer_delay, _ = signal.getitimer(signal.ITIMER_REAL)
            outer_handler = signal.signal(signal.SIGALRM, on_alarm)
            signal.setitimer(signal.ITIMER_REAL, seconds if not outer_delay else min(seconds, outer_delay))
        yield
    except _AlarmFired as fired:
        if fired is not alarm:  # an enclosing deadline's alarm: let it reach its owner
            raise
        raise LimitError(f"the work ran past its deadline of {seconds:g} s",
                         hint="simplify the input, or raise the limit with --timeout") from None
    finally:
        armed[0] = False
        if use_alarm and outer_handler is not None:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, outer_handler)
            if outer_delay:
                remaining = outer_delay - (time.monotonic() - started)
                signal.setitimer(signal.ITIMER_REAL, max(remaining, 1e-3))
        _deadline_at = previous
