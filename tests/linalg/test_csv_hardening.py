"""CSV input for pca and fit: streamed with caps, clear errors, no file contents quoted
from a file that is not a CSV, and no traceback on odd bytes or cells."""

from __future__ import annotations

import pytest

from derivekit import files, limits
from derivekit.cli import main
from derivekit.errors import DerivekitError
from derivekit.linalg.datasets import read_csv
from derivekit.optim.objectives import load_csv

READERS = {"pca": lambda p: read_csv(p), "fit": lambda p: load_csv(p, target="b")}


@pytest.mark.parametrize("reader", list(READERS))
@pytest.mark.parametrize("content, message", [
    (b"a,b\n1,2\n\xff\xfe,3\n", "not UTF-8"),
    (b"a,b\n1,2\n3\x00,4\n", "NUL bytes"),
    (b"a,b\n1,2\n" + b"9" * 140_000 + b",1\n", "longer than"),
    (b"a,b\n1,2\n+nan,1\n", "not a finite number"),
    (b"a,b\n1,2\n+infinity,1\n", "not a finite number"),
    (b"a,b\n1,2\n1e999,1\n", "not a finite number"),
    (b"a,b\n1,2\n" + b"9" * 5000 + b",1\n", "not a finite number"),
])
def test_bad_bytes_and_cells_are_clear_errors(tmp_path, reader, content, message):
    path = tmp_path / "d.csv"
    path.write_bytes(content)
    with pytest.raises(DerivekitError, match=message):
        READERS[reader](path)


@pytest.mark.parametrize("reader", list(READERS))
def test_devices_and_folders_are_refused_before_reading(tmp_path, reader):
    with pytest.raises(DerivekitError, match="not a regular file"):
        READERS[reader]("/dev/zero")
    with pytest.raises(DerivekitError, match="is a folder"):
        READERS[reader](tmp_path)


@pytest.mark.parametrize("reader", list(READERS))
def test_row_and_byte_caps_stop_the_reading(tmp_path, reader, monkeypatch):
    path = tmp_path / "d.csv"
    path.write_text("a,b\n" + "1,2\n" * 50)
    monkeypatch.setattr(limits, "MAX_CSV_ROWS", 10)
    with pytest.raises(DerivekitError, match="more than 10 rows"):
        READERS[reader](path)
    monkeypatch.setattr(limits, "MAX_CSV_ROWS", 1000)
    monkeypatch.setattr(limits, "MAX_CSV_BYTES", 100)
    with pytest.raises(DerivekitError, match="larger than 100 bytes"):
        READERS[reader](path)


def test_rows_are_counted_while_streaming(tmp_path, monkeypatch):
    """The cap ends the reading at row cap + 1: later lines are never read (here a line
    that would be an error if it were)."""
    path = tmp_path / "d.csv"
    path.write_bytes(b"a,b\n" + b"1,2\n" * 20 + b"\xff\n")
    monkeypatch.setattr(limits, "MAX_CSV_ROWS", 5)
    with pytest.raises(DerivekitError, match="more than 5 rows"):
        list(files.csv_rows(path, max_rows=5))


@pytest.mark.parametrize("reader", list(READERS))
def test_a_file_that_is_no_csv_is_never_quoted(tmp_path, reader):
    secret = tmp_path / "shadow"
    secret.write_text("root:$6$SECRETHASH:19000:0:99999:7:::\nb\nx\n")
    with pytest.raises(DerivekitError) as info:
        READERS[reader](secret)
    assert "SECRETHASH" not in str(info.value) and "99999" not in str(info.value)


def test_cli_pca_and_fit_exit_2_on_bad_csv(tmp_path, capsys):
    path = tmp_path / "d.csv"
    path.write_bytes(b"x,y\n1,2\n\xff,3\n")
    assert main(["pca", "--data", str(path)]) == 2
    assert main(["fit", "--data", str(path), "--target", "y"]) == 2
    err = capsys.readouterr().err
    assert err.count("not UTF-8") == 2 and "Traceback" not in err


def test_fit_latex_escapes_csv_headers(tmp_path, capsys):
    path = tmp_path / "d.csv"
    path.write_text("x_1&\\input{a},y\n1,2\n2,4.1\n3,5.9\n")
    assert main(["fit", "--data", str(path), "--target", "y", "--steps", "3",
                 "--format", "latex"]) in (0, 1)
    out = capsys.readouterr().out
    assert "\\input" not in out
