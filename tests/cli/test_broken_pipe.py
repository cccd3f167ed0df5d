"""A reader that stops early (`derivekit check … | head`) does not turn a verdict into exit 0."""

import sys

import pytest

from derivekit.cli import main


class ClosedPipe:
    """stdout whose reader has gone: writing or flushing raises BrokenPipeError."""

    def __init__(self, fd: int):
        self.fd = fd

    def write(self, _text):
        raise BrokenPipeError

    def flush(self):
        raise BrokenPipeError

    def fileno(self):
        return self.fd

    def isatty(self):
        return False


@pytest.mark.parametrize("argv, code", [
    (["check", "sin(x)*cos(x)", "--wrt", "x", "--claim", "cos(x)^2 + sin(x)^2"], 1),
    (["check", "sin(x)*cos(x)", "--wrt", "x", "--claim", "cos(x)^2 - sin(x)^2"], 0),
    (["gradcheck", "x^2*y", "--wrt", "x,y", "--claim", "[2*x*y, x]"], 1),
    (["check-backprop", "norm2(W@x - y)", "--wrt", "W", "--claim", "(W@x - y)@x.T",
      "--shapes", "W=2x3,x=3x1,y=2x1"], 1),
    (["diff", "x^2", "--wrt", "x"], 0),
])
def test_a_closed_pipe_keeps_the_exit_code(argv, code, tmp_path, monkeypatch):
    sink = open(tmp_path / "sink", "w")  # dup2 needs a real descriptor to point at /dev/null
    monkeypatch.setattr(sys, "stdout", ClosedPipe(sink.fileno()))
    try:
        assert main(argv) == code
    finally:
        monkeypatch.undo()
        sink.close()
