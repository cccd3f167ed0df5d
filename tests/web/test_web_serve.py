"""``derivekit serve``: arguments, the printed URL, the warning off loopback."""

import pytest

pytest.importorskip("uvicorn")

from derivekit.cli import main  # noqa: E402


@pytest.fixture
def started(monkeypatch):
    calls = []
    import uvicorn
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    return calls


def test_serve_binds_loopback_by_default_and_prints_the_url(started, capsys):
    assert main(["serve"]) == 0
    (app, kw), = started
    assert kw["host"] == "127.0.0.1" and kw["port"] == 8000
    out, err = capsys.readouterr()
    assert "http://127.0.0.1:8000" in out and "warning" not in err
    assert app.state.pool.size == 2


def test_serve_warns_when_binding_every_address(started, capsys):
    assert main(["serve", "--host", "0.0.0.0", "--port", "8123", "--workers", "3"]) == 0
    (app, kw), = started
    assert kw["host"] == "0.0.0.0" and kw["port"] == 8123 and app.state.pool.size == 3
    assert "warning" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["serve", "--port", "70000"], ["serve", "--workers", "0"],
                                  ["serve", "--port", "x"]])
def test_serve_refuses_bad_arguments(started, argv, capsys):
    assert main(argv) == 2 and not started
