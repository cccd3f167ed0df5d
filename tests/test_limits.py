"""Deadlines: cooperative checks and the SIGALRM cut-off."""

import time

import pytest

from derivekit.errors import DerivekitError, LimitError
from derivekit.limits import check_deadline, deadline


def test_cooperative_check_raises_after_the_deadline():
    with pytest.raises(LimitError, match="deadline"):
        with deadline(0.01):
            time.sleep(0.02)
            check_deadline()


@pytest.mark.timeout(5)
def test_alarm_cuts_a_busy_loop():
    with pytest.raises(LimitError):
        with deadline(0.05):
            while True:
                pass


def test_no_deadline_and_nesting_restore():
    with deadline(None):
        check_deadline()
    with deadline(5):
        with deadline(2):
            check_deadline()
        check_deadline()


def test_errors_are_value_errors_with_hints():
    err = LimitError("too big", hint="make it smaller")
    assert isinstance(err, DerivekitError) and isinstance(err, ValueError)
    assert "hint: make it smaller" in str(err)


def test_an_outer_timer_is_rearmed_and_keeps_its_handler():
    import signal

    fired = []
    old = signal.signal(signal.SIGALRM, lambda *_: fired.append("outer"))
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        with deadline(5):
            pass
        remaining, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 0 < remaining <= 0.3
        with deadline(5):  # the outer timer fires inside: its handler runs, no LimitError
            time.sleep(0.5)
        time.sleep(0.05)  # and, having fired, it is not re-armed
        assert fired == ["outer"]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def test_inner_deadline_cannot_outlive_the_outer_one():
    with pytest.raises(LimitError):
        with deadline(0.05):
            with deadline(10):
                while True:
                    check_deadline()


@pytest.mark.timeout(5)
def test_code_catching_value_error_cannot_swallow_the_alarm():
    with pytest.raises(LimitError):
        with deadline(0.05):
            while True:
                try:
                    time.sleep(0.01)
                except ValueError:
                    pass


@pytest.mark.timeout(5)
def test_a_tiny_deadline_leaves_no_stale_state():
    for _ in range(20):
        try:
            with deadline(1e-6):
                time.sleep(0.001)
        except LimitError:
            pass
    check_deadline()  # nothing left armed
    with deadline(5):
        check_deadline()


@pytest.mark.parametrize("seconds", [0, -1, float("inf"), float("nan"), 1e9])
def test_deadline_and_timeouts_must_be_finite_positive_and_capped(seconds):
    from derivekit.errors import LimitError
    from derivekit.limits import timeout_seconds
    with pytest.raises(LimitError, match="at most"):
        timeout_seconds(seconds, "--timeout")
    with pytest.raises(LimitError):
        with deadline(seconds):
            pass


@pytest.mark.parametrize("value", ["inf", "-1", "nan"])
def test_cli_timeout_is_validated(value, capsys):
    from derivekit.cli import main
    assert main(["diff", "x^2", "--timeout", value]) == 2
    assert "--timeout must be" in capsys.readouterr().err
