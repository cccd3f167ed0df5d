"""derivekit serve refuses a port already in use, an empty host and an unknown host with a
clear error (exit 2), before any server starts."""

import socket

import pytest

from derivekit.cli import main


def test_a_port_in_use_is_a_clear_error(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert "cannot listen on 127.0.0.1" in err and "Traceback" not in err


@pytest.mark.parametrize("host, words", [("", "--host is empty"), ("no such host .", "cannot listen")])
def test_bad_hosts_are_clear_errors(host, words, capsys):
    assert main(["serve", "--host", host, "--port", "1"]) == 2
    assert words in capsys.readouterr().err
