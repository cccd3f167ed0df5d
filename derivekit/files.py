"""Reading and writing files given by the user, with caps and without surprises.

* Input: only regular files are read (a device such as ``/dev/zero`` or a FIFO would never
  end, or block), in bounded pieces, up to a byte cap; text must be UTF-8. CSV rows are
  streamed and counted while reading, so a cap is checked before the data is in memory.
* Output: :func:`output_path` refuses to overwrite an existing file without ``force``, never
  writes through a symbolic link (dangling or not) unless ``force``, and refuses a missing
  folder or an unknown extension, so that the path reported is the path written.
* Errors quote at most one short piece of a data file, and only of a file named like a CSV.
"""

from __future__ import annotations

import csv
import math
import os
import stat
from pathlib import Path
from typing import Iterator

from derivekit import limits
from derivekit.errors import DerivekitError

MAX_LINE_BYTES = 1_000_000  # one CSV line; csv's own field limit (131,072 characters) is below
_QUOTE_CHARS = 40


def _open_regular(path: Path, what: str, hint: str):
    """A binary handle on ``path`` once it is known to be a regular file."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise DerivekitError(f"no such {what}: {path}", hint=hint) from None
    except OSError as exc:
        raise DerivekitError(f"cannot read {path}: {exc.strerror or exc}", hint=hint) from None
    if stat.S_ISDIR(info.st_mode):
        raise DerivekitError(f"{path} is a folder, not a {what}", hint=hint)
    if not stat.S_ISREG(info.st_mode):
        raise DerivekitError(f"{path} is not a regular file (a device, pipe or socket)",
                             hint=hint)
    try:
        return path.open("rb")
    except OSError as exc:
        raise DerivekitError(f"cannot read {path}: {exc.strerror or exc}", hint=hint) from None


def read_text(path: str | Path, *, max_bytes: int, what: str = "file",
              hint: str = "check the path") -> str:
    """The UTF-8 text of the regular file ``path``, refused past ``max_bytes``."""
    path = Path(path)
    with _open_regular(path, what, hint) as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise DerivekitError(f"{path} is larger than {max_bytes:,} bytes, the limit for a {what}",
                             hint="split it into smaller files")
    return _decode(data, path)


def _decode(data: bytes, path: Path, line: int | None = None) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        where = f"{path}, line {line}" if line else str(path)
        raise DerivekitError(f"{where} is not UTF-8 text (byte {exc.start + 1} of "
                             f"{'the line' if line else 'the file'} cannot be decoded)",
                             hint="save the file as UTF-8 text") from None


MAX_CELL_CHARS = 100  # one CSV cell; a 5,000-digit number is no measurement


def finite_cell(cell: str) -> float | None:
    """A CSV cell as a finite float written in at most :data:`MAX_CELL_CHARS` characters, else
    None (so ``nan``, ``+infinity`` and ``1e999``, which overflows to inf, are not numbers)."""
    if len(cell) > MAX_CELL_CHARS:
        return None
    try:
        value = float(cell)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def looks_like_csv(path: str | Path) -> bool:
    """Only a file named ``*.csv``/``*.tsv``/``*.txt`` may have its cells quoted in errors."""
    return Path(path).suffix.lower() in (".csv", ".tsv", ".txt")


def quote_cell(path: str | Path, cell: str) -> str:
    """`` 'cell'`` (shortened) for an error message, or nothing for a file that is no CSV."""
    if not looks_like_csv(path):
        return ""
    cell = cell if len(cell) <= _QUOTE_CHARS else cell[:_QUOTE_CHARS] + "…"
    return f" {cell!r}"


def _lines(handle, path: Path, max_bytes: int) -> Iterator[str]:
    total = 0
    number = 0
    while True:
        raw = handle.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        number += 1
        total += len(raw)
        if total > max_bytes:
            raise DerivekitError(f"{path} is larger than {max_bytes:,} bytes, the limit for "
                                 "data read from CSV",
                                 hint="use a sample of the data, or raise "
                                      "derivekit.limits.MAX_CSV_BYTES")
        if len(raw) > MAX_LINE_BYTES:
            raise DerivekitError(f"{path}, line {number} is longer than {MAX_LINE_BYTES:,} bytes",
                                 hint="give one sample per line")
        if b"\x00" in raw:
            raise DerivekitError(f"{path}, line {number} contains NUL bytes, so the file is "
                                 "binary, not CSV text", hint="give a CSV text file")
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        yield _decode(raw, path, number)


def csv_rows(path: str | Path, *, max_rows: int, header_rows: int = 0, what: str = "CSV file",
             hint: str = "check the path") -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) for each non-blank row of the CSV file ``path``, streamed.

    More than ``max_rows`` rows (besides ``header_rows`` rows of header), more than
    :data:`derivekit.limits.MAX_CSV_BYTES` bytes, a line that is not UTF-8, or a field longer
    than the csv module allows, end the reading with a :class:`DerivekitError`.
    """
    path = Path(path)
    with _open_regular(path, what, hint) as handle:
        reader = csv.reader(_lines(handle, path, limits.MAX_CSV_BYTES))
        count = 0
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise DerivekitError(f"{path}, line {reader.line_num}: cannot be read as CSV "
                                     f"({_csv_reason(exc)})",
                                     hint="give plain comma-separated numbers") from None
            if not any(cell.strip() for cell in row):
                continue
            count += 1
            if count > max_rows + header_rows:
                raise DerivekitError(f"{path} has more than {max_rows:,} rows, the limit",
                                     hint="use a sample of the rows, or raise "
                                          "derivekit.limits.MAX_CSV_ROWS")
            yield reader.line_num, row


def _csv_reason(exc: csv.Error) -> str:
    text = str(exc)
    if "field larger" in text:
        return f"a field is longer than {csv.field_size_limit():,} characters"
    if "NUL" in text:
        return "it contains NUL bytes, so it is binary"
    return "badly quoted fields"


def output_path(path: str | Path, *, force: bool = False, suffixes: tuple[str, ...] = (),
                what: str = "output") -> Path:
    """``path`` checked for writing: its folder exists; it is not a symbolic link (dangling
    or not) and does not exist unless ``force``; it ends with one of ``suffixes`` if given."""
    path = Path(path)
    if suffixes and path.suffix.lower() not in suffixes:
        raise DerivekitError(f"cannot write the {what} as {path.suffix or 'a file without a suffix'}"
                             f" ({path})", hint="name the file " + (" or ".join([", ".join(suffixes[:-1]), suffixes[-1]])
                                                     if len(suffixes) > 1 else suffixes[0]))
    folder = path.parent
    if not folder.is_dir():
        raise DerivekitError(f"the folder {folder} of {path} does not exist",
                             hint="create it first, or choose another file")
    if path.is_symlink() and not force:
        raise DerivekitError(f"{path} is a symbolic link; derivekit does not write through links",
                             hint="remove the link, choose another file, or pass --force")
    if path.exists() and not force:
        raise DerivekitError(f"{path} already exists",
                             hint="pass --force to overwrite it, or choose another file")
    if path.exists() and path.is_dir():
        raise DerivekitError(f"{path} is a folder", hint="give a file name")
    return path


def _open_for_writing(path: Path, force: bool) -> int:
    """A descriptor truncating ``path`` for writing; the last component is not followed if it
    is a link unless ``force`` (``O_NOFOLLOW``), so that a link placed after a check is not
    followed either."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    if not force:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        return os.open(path, flags, 0o644)
    except OSError as exc:
        raise DerivekitError(f"cannot write {path}: {exc.strerror or exc}",
                             hint="choose another file") from None


def write_text(path: Path, text: str, *, force: bool = False) -> None:
    """Write ``text`` to ``path`` without following a link at the last component unless
    ``force`` (``O_NOFOLLOW``), so that a link placed after the check is not followed."""
    fd = _open_for_writing(path, force)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def open_binary(path: Path, *, force: bool = False):
    """A binary handle for writing ``path`` with the same no-link rule as :func:`write_text`."""
    fd = _open_for_writing(path, force)
    return os.fdopen(fd, "wb")


def copy_file(source: Path, target: Path, *, force: bool = False) -> None:
    """Copy ``source`` to ``target`` with the same no-link rule as :func:`write_text`."""
    fd = _open_for_writing(target, force)
    with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
        while chunk := src.read(1 << 20):
            out.write(chunk)
