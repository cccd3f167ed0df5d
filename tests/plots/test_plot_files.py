"""--plot FILE: never overwrites without --force, never writes through a link, refuses an
unknown extension or a missing folder before the work, and reports the file it wrote."""

from __future__ import annotations

import pytest

from derivekit.cli import main

pytest.importorskip("matplotlib")

COMMANDS = {
    "eig": ["eig", "[[2,1],[1,2]]"],
    "pca": ["pca"],
    "descend": ["descend", "x^2 + y^2", "--start", "x=1,y=1", "--steps", "5"],
    "fit": ["fit", "--steps", "5"],
    "gradflow": ["gradflow", "--depth", "3", "--width", "4", "--batch", "4"],
}


@pytest.mark.parametrize("name", list(COMMANDS))
def test_existing_plot_file_needs_force(name, tmp_path, capsys):
    out = tmp_path / "p.png"
    out.write_bytes(b"precious")
    assert main([*COMMANDS[name], "--plot", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err and out.read_bytes() == b"precious"
    assert main([*COMMANDS[name], "--plot", str(out), "--force"]) == 0
    assert out.read_bytes().startswith(b"\x89PNG")
    assert str(out) in capsys.readouterr().err


@pytest.mark.parametrize("name", list(COMMANDS))
@pytest.mark.parametrize("path, message", [("out", "without a suffix"), ("out.jpg", ".jpg"),
                                           ("nodir/out.png", "does not exist")])
def test_bad_plot_paths_are_usage_errors(name, path, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main([*COMMANDS[name], "--plot", path]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not list(tmp_path.iterdir())  # nothing written, not even out.png


def test_plot_never_follows_a_dangling_link(tmp_path, capsys):
    target = tmp_path / "elsewhere.png"
    link = tmp_path / "p.png"
    link.symlink_to(target)
    assert main([*COMMANDS["eig"], "--plot", str(link)]) == 2
    assert "symbolic link" in capsys.readouterr().err and not target.exists()
