"""Reading vectors and matrices from the forms a student writes them in.

Accepted: plain text (``[1, 2, 3]``, ``[[1,2],[3,4]]``, ``[1, 2; 3, 4]``, symbolic entries
``[[a, b], [c, d]]``), LaTeX (``bmatrix``, ``pmatrix``, ``vmatrix``, ``matrix``, ``array``
environments), NumPy arrays, nested lists or tuples, and SymPy matrices.

The bracket reader here only splits the structure. Each entry is read by
:func:`derivekit.parsing.parse.parse` (plain integers, decimals and fractions take a shortcut that
gives the same SymPy numbers). User text never reaches ``eval``, ``sympify`` or
``parse_expr``.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

import numpy as np
import sympy as sp

from derivekit.errors import DerivekitError, ParseError, ShapeError
from derivekit.limits import MAX_INPUT_CHARS, MAX_NUMBER_DIGITS

MAX_ENTRIES = 250_000  # entries in one matrix given as Python data
MAX_TEXT_ENTRIES = 2_500  # entries in one matrix given as text

_INTEGER = re.compile(r"[+-]?\d+")
_DECIMAL = re.compile(r"[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?")
_FRACTION = re.compile(r"([+-]?\d+)\s*/\s*(\d+)")
_LATEX_ENV = re.compile(r"\\begin\{(bmatrix|pmatrix|vmatrix|Bmatrix|Vmatrix|matrix|smallmatrix|array)\}"
                        r"(\{[^{}]*\})?(?P<body>.*?)\\end\{\1\}", re.DOTALL)
_OPEN, _CLOSE = "([{", ")]}"


def read_matrix(value: Any, name: str = "A", *, vector_as: str | None = None,
                syntax: str = "auto") -> sp.Matrix:
    """Return ``value`` as a SymPy matrix.

    A one-dimensional input (``[1, 2, 3]``) is an error unless ``vector_as`` is ``"column"``
    or ``"row"``, which says how to stand it up. ``name`` appears in error messages.
    """
    matrix, ndim = _read(value, name, syntax)
    if ndim == 1:
        if vector_as == "column":
            return matrix
        if vector_as == "row":
            return matrix.T
        raise ShapeError(f"{name} is a vector ({matrix.rows} entries) but a matrix is needed",
                         hint="write a matrix as a list of rows, e.g. [[1, 2], [3, 4]]")
    return matrix


def read_vector(value: Any, name: str = "u", *, syntax: str = "auto") -> sp.Matrix:
    """Return ``value`` as a column vector (n×1 SymPy matrix); rows and columns both count."""
    matrix, ndim = _read(value, name, syntax)
    if ndim == 1 or matrix.cols == 1:
        return matrix
    if matrix.rows == 1:
        return matrix.T
    raise ShapeError(f"{name} has shape {matrix.rows}×{matrix.cols}, but a vector is needed",
                     hint="give a flat list such as [1, 2, 3]")


def read_numeric(value: Any) -> np.ndarray | None:
    """``value`` as a float/complex NumPy array without going through SymPy, or None.

    Used on fast paths (large numeric matrices, PCA data). Returns None when the input is
    text, holds symbols, or is anything but plain numbers.
    """
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "biuf":
            return _finite(value.astype(float))
        if value.dtype.kind == "c":
            return _finite(value.astype(complex))
        return None
    if isinstance(value, (list, tuple)):
        try:
            array = np.asarray(value)
        except ValueError:
            return None
        if array.dtype.kind in "biuf":
            return _finite(array.astype(float))
        if array.dtype.kind == "c":
            return _finite(array.astype(complex))
    return None


def _finite(array: np.ndarray) -> np.ndarray:
    """``array`` when every entry is finite; numbers cannot be checked on inf or NaN."""
    if not np.all(np.isfinite(array)):
        raise DerivekitError("the matrix contains infinite or NaN entries",
                             hint="every entry must be a finite number")
    return array


def is_numeric(matrix: sp.MatrixBase) -> bool:
    """True when every entry is a number (no symbols)."""
    return all(entry.is_number for entry in matrix)


def has_floats(matrix: sp.MatrixBase) -> bool:
    """True when some entry holds a floating-point number."""
    return any(entry.has(sp.Float) for entry in matrix)


def to_numpy(matrix: sp.MatrixBase) -> np.ndarray:
    """A numeric SymPy matrix as a float (or complex) NumPy array."""
    if not is_numeric(matrix):
        symbols = sorted(map(str, matrix.free_symbols))
        raise DerivekitError(f"the matrix has symbols ({', '.join(symbols)}), so it has no numeric value",
                             hint="substitute numbers for the symbols first")
    values = [complex(entry) for entry in matrix]
    array = np.array(values, dtype=complex).reshape(matrix.rows, matrix.cols)
    return array.real.copy() if not np.any(array.imag) else array


# --------------------------------------------------------------------------- Python data

def _read(value: Any, name: str, syntax: str) -> tuple[sp.Matrix, int]:
    if isinstance(value, sp.MatrixBase):
        return sp.Matrix(value), 2
    if isinstance(value, str):
        return _read_text(value, name, syntax)
    if isinstance(value, np.ndarray):
        if value.ndim not in (1, 2) or value.size == 0:
            raise ShapeError(f"{name} must be a non-empty 1-D or 2-D array, got shape {value.shape}")
        if value.size > MAX_ENTRIES:
            raise ShapeError(f"{name} has {value.size} entries; the limit is {MAX_ENTRIES}")
        rows = value.tolist() if value.ndim == 2 else [[x] for x in value.tolist()]
        return sp.Matrix([[_number(x, name) for x in row] for row in rows]), value.ndim
    if isinstance(value, (list, tuple)):
        return _read_nested(value, name)
    raise DerivekitError(f"cannot read {name} from a {type(value).__name__}",
                         hint="give text like '[[1, 2], [3, 4]]', a NumPy array, nested lists "
                              "or a SymPy Matrix")


def _number(x: Any, name: str) -> sp.Expr:
    if isinstance(x, bool):
        return sp.Integer(int(x))
    if isinstance(x, (int, np.integer)):
        return sp.Integer(int(x))
    if isinstance(x, (float, np.floating)):
        if not np.isfinite(x):
            raise DerivekitError(f"{name} contains {x}", hint="remove NaN and infinite entries")
        return sp.Float(float(x))
    if isinstance(x, (complex, np.complexfloating)):
        if not np.isfinite(x):
            raise DerivekitError(f"{name} contains {x}", hint="remove NaN and infinite entries")
        return sp.Float(x.real) + sp.I * sp.Float(x.imag)
    if isinstance(x, Fraction):
        return sp.Rational(x.numerator, x.denominator)
    if isinstance(x, sp.Expr):
        return x
    if isinstance(x, str):
        return _read_entry(x, name, "auto", x, 0)
    raise DerivekitError(f"{name} has an entry of type {type(x).__name__}",
                         hint="entries must be numbers, SymPy expressions or expression text")


def _read_nested(value: list | tuple, name: str) -> tuple[sp.Matrix, int]:
    if not value:
        raise ShapeError(f"{name} is empty", hint="give at least one entry")
    nested = [isinstance(x, (list, tuple, np.ndarray)) for x in value]
    if not any(nested):
        if len(value) > MAX_ENTRIES:
            raise ShapeError(f"{name} has {len(value)} entries; the limit is {MAX_ENTRIES}")
        return sp.Matrix([_number(x, name) for x in value]), 1
    if not all(nested):
        raise ShapeError(f"{name} mixes rows and single entries",
                         hint="make every row a list: [[1, 2], [3, 4]]")
    rows = [list(row) for row in value]
    _check_rectangular([len(row) for row in rows], name)
    if len(rows) * len(rows[0]) > MAX_ENTRIES:
        raise ShapeError(f"{name} has too many entries; the limit is {MAX_ENTRIES}")
    return sp.Matrix([[_number(x, name) for x in row] for row in rows]), 2


def _check_rectangular(lengths: list[int], name: str) -> None:
    if any(n == 0 for n in lengths):
        raise ShapeError(f"{name} has an empty row", hint="every row needs at least one entry")
    if len(set(lengths)) > 1:
        bad = next(i for i, n in enumerate(lengths) if n != lengths[0])
        raise ShapeError(f"{name} is not rectangular: row 1 has {lengths[0]} entries but row "
                         f"{bad + 1} has {lengths[bad]}", hint="give every row the same length")


# --------------------------------------------------------------------------- text

def _read_text(source: str, name: str, syntax: str) -> tuple[sp.Matrix, int]:
    if len(source) > MAX_INPUT_CHARS:
        raise ParseError(f"{name} is {len(source)} characters long; the limit is {MAX_INPUT_CHARS}",
                         hint="pass large matrices as NumPy arrays or a CSV file")
    stripped = source.strip()
    if not stripped:
        raise ParseError(f"{name} is empty", hint="write a matrix like [[1, 2], [3, 4]]")
    if syntax == "latex" or (syntax == "auto" and "\\" in stripped):
        return _read_latex(source, name)
    start = source.index(stripped[0])
    if stripped[0] != "[":
        raise ParseError(f"{name} should start with '['", source=source, position=start,
                         hint="write a vector as [1, 2, 3] and a matrix as [[1, 2], [3, 4]]")
    items, end = _read_list(source, start, name)
    if source[end:].strip():
        raise ParseError(f"unexpected text after the closing ']' of {name}", source=source,
                         position=end + len(source[end:]) - len(source[end:].lstrip()))
    return _shape_items(items, source, name)


def _read_list(source: str, start: int, name: str) -> tuple[list, int]:
    """Read ``[ ... ]`` starting at ``start``; return (items, index after ``]``).

    Items are ``(text, offset)`` entries, nested lists, or the marker ``";"`` between rows.
    """
    items: list = []
    depth = 0
    stack: list[tuple[str, int]] = []
    piece_start = start + 1
    i = start + 1
    nested: list | None = None
    while i < len(source):
        char = source[i]
        if depth == 0 and char == "[" and not source[piece_start:i].strip():
            if nested is not None:
                raise ParseError("missing ',' between rows", source=source, position=i,
                                 hint="write rows as [[1, 2], [3, 4]]")
            nested, i = _read_list(source, i, name)
            piece_start = i
            continue
        if char in _OPEN:
            stack.append((char, i))
            depth += 1
        elif char in _CLOSE and depth > 0:
            opener, at = stack.pop()
            if _OPEN.index(opener) != _CLOSE.index(char):
                raise ParseError(f"'{opener}' at position {at} is closed by '{char}'", source=source,
                                 position=i, hint="check the brackets")
            depth -= 1
        elif depth == 0 and char in ",;]":
            text = source[piece_start:i]
            if nested is not None:
                if text.strip():
                    raise ParseError("unexpected text after a row", source=source,
                                     position=piece_start, hint="separate rows with commas")
                items.append(nested)
                nested = None
            elif text.strip():
                items.append((text, piece_start))
            elif char != "]" or items:
                raise ParseError(f"empty entry in {name}", source=source, position=i,
                                 hint="remove the doubled separator or fill in the entry")
            if char == ";":
                items.append(";")
            if char == "]":
                return items, i + 1
            piece_start = i + 1
        i += 1
    raise ParseError(f"'[' is never closed in {name}", source=source, position=start,
                     hint="add the missing ']'")


def _shape_items(items: list, source: str, name: str) -> tuple[sp.Matrix, int]:
    if not items:
        raise ShapeError(f"{name} is empty", hint="give at least one entry")
    if ";" in items:  # MATLAB-style rows: [1, 2; 3, 4]
        rows, row = [], []
        for item in items + [";"]:
            if item == ";":
                rows.append(row)
                row = []
            elif isinstance(item, list):
                raise ParseError(f"{name} mixes ';' rows with nested brackets",
                                 hint="use either [[1, 2], [3, 4]] or [1, 2; 3, 4]")
            else:
                row.append(item)
        return _entries_matrix(rows, source, name), 2
    if all(isinstance(item, list) for item in items):
        rows = items
        for row in rows:
            if any(isinstance(x, list) or x == ";" for x in row):
                raise ShapeError(f"{name} is nested more than two levels deep",
                                 hint="only vectors and matrices are supported")
        return _entries_matrix(rows, source, name), 2
    if any(isinstance(item, list) for item in items):
        raise ShapeError(f"{name} mixes rows and single entries",
                         hint="make every row a list: [[1, 2], [3, 4]]")
    return _entries_matrix([[item] for item in items], source, name), 1


def _entries_matrix(rows: list[list[tuple[str, int]]], source: str, name: str,
                    syntax: str = "auto") -> sp.Matrix:
    _check_rectangular([len(row) for row in rows], name)
    if len(rows) * len(rows[0]) > MAX_TEXT_ENTRIES:
        raise ShapeError(f"{name} has {len(rows) * len(rows[0])} entries; text input is limited "
                         f"to {MAX_TEXT_ENTRIES}", hint="pass large matrices as NumPy arrays")
    return sp.Matrix([[_read_entry(text, name, syntax, source, offset) for text, offset in row]
                      for row in rows])


def _read_entry(text: str, name: str, syntax: str, source: str, offset: int) -> sp.Expr:
    entry = text.strip()
    offset += len(text) - len(text.lstrip())
    digits = sum(ch.isdigit() for ch in entry)
    if (_INTEGER.fullmatch(entry) or _DECIMAL.fullmatch(entry)) and digits > MAX_NUMBER_DIGITS:
        raise ParseError(f"an entry of {name} has {digits} digits, over the limit of "
                         f"{MAX_NUMBER_DIGITS}", source=source, position=offset,
                         hint="write it in scientific notation, e.g. 1.5e40")
    if _INTEGER.fullmatch(entry):
        return sp.Integer(int(entry))
    if _DECIMAL.fullmatch(entry):
        number = sp.Float(entry)
        if not np.isfinite(float(number)):
            raise ParseError(f"the entry '{entry}' of {name} overflows to infinity",
                             source=source, position=offset,
                             hint="every entry must be a finite number (at most about 1.8e308)")
        return number
    fraction = _FRACTION.fullmatch(entry)
    if fraction:
        if int(fraction.group(2)) == 0:
            raise ParseError(f"division by zero in an entry of {name}", source=source, position=offset)
        return sp.Rational(int(fraction.group(1)), int(fraction.group(2)))
    from derivekit.parsing.parse import (
        parse,  # imported late: the grammar loads only when needed
    )
    try:
        value = parse(entry, syntax=syntax)
    except ParseError as exc:
        position = offset + exc.position if exc.position is not None else offset
        reason = re.sub(r" at position \d+$", "", exc.message.splitlines()[0])
        hint = exc.hint
        if re.fullmatch(r"\s*[-+]?[\d.]+(?:\s+[-+]?[\d.]+)+\s*", entry):
            # "[4 5 6]" as NumPy prints it: numbers side by side are entries, not a product
            hint = "separate entries with commas, e.g. [4, 5, 6], and rows with ; or [[...], [...]]"
        raise ParseError(f"cannot read the entry '{entry}' of {name}: {reason}",
                         source=source, position=position, hint=hint) from None
    if not isinstance(value, sp.Expr) or isinstance(value, sp.MatrixBase):
        raise ParseError(f"the entry '{entry}' of {name} is not a scalar expression",
                         source=source, position=offset,
                         hint="each entry must be a number or a scalar expression")
    if value.has(sp.oo, -sp.oo, sp.zoo, sp.nan) or any(
            str(symbol).lower() in ("nan", "inf", "infinity") for symbol in value.free_symbols):
        raise ParseError(f"the entry '{entry}' of {name} is not finite", source=source,
                         position=offset, hint="every entry must be a finite number or expression")
    return value


_ALLOWED_BEFORE = re.compile(r"^\s*(?:\$\$|\$|\\\[)?\s*(?:[A-Za-z]\s*=\s*)?(?:\\left\s*[(\[]\s*)?$")
_ALLOWED_AFTER = re.compile(r"^\s*(?:\\right\s*[)\]]\s*)?(?:\$\$|\$|\\\])?\s*[.,]?\s*$")


def _refuse_text_around(source: str, match: re.Match, name: str) -> None:
    """Only the matrix may be written (with ``$``/``\\[`` delimiters and an ``A =`` in
    front): a power, a sum or an inverse around it (``…\\end{pmatrix}^{-1}``) would
    otherwise be dropped silently and the answer be for another matrix."""
    before, after = source[:match.start()], source[match.end():]
    if _ALLOWED_BEFORE.match(before) and _ALLOWED_AFTER.match(after):
        return
    extra = before.strip() if not _ALLOWED_BEFORE.match(before) else after.strip()
    position = (len(before) - len(before.lstrip()) if not _ALLOWED_BEFORE.match(before)
                else match.end() + len(after) - len(after.lstrip()))
    shown = extra if len(extra) <= 40 else extra[:40] + "…"
    raise ParseError(f"{name} has text around its matrix environment ({shown!r}); only the "
                     "matrix itself is read here", source=source, position=position,
                     hint="give the matrix alone: compute powers and sums first (derivekit "
                          "matmul for products), and use derivekit inv for an inverse")


def _read_latex(source: str, name: str) -> tuple[sp.Matrix, int]:
    match = _LATEX_ENV.search(source)
    if match is None:
        raise ParseError(f"no matrix environment found in {name}",
                         hint=r"write \begin{bmatrix} 1 & 2 \\ 3 & 4 \end{bmatrix} "
                              "(pmatrix, vmatrix and matrix work too)")
    _refuse_text_around(source, match, name)
    body_start = match.start("body")
    rows: list[list[tuple[str, int]]] = []
    position = body_start
    for row_text in re.split(r"\\\\", match.group("body")):
        cells, cell_position = [], position
        if row_text.strip() or not rows:
            for cell in row_text.split("&"):
                if not cell.strip():
                    raise ParseError(f"empty entry in {name}", source=source, position=cell_position)
                cells.append((cell, cell_position))
                cell_position += len(cell) + 1
            rows.append(cells)
        position += len(row_text) + 2
    rows = [row for row in rows if row]
    matrix = _entries_matrix(rows, source, name, syntax="latex")
    return matrix, 2
