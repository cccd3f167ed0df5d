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
