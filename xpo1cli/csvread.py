"""A table file read as text and parsed into columns of stripped strings, each row with its file
line number; rows of the wrong width reported and dropped (see `datapackage` for the files).
"""

from __future__ import annotations

import csv
import functools
import io
import re
from pathlib import Path

from .datapackage import LINE, Problem, max_file_bytes, read_regular

# The csv module refuses cells over 128 KiB by default; a file is already capped (max_file_bytes).
csv.field_size_limit(2**31 - 1)


def _read_text(path: Path, limit: int | None = None) -> str:
    raw = read_regular(path, max_file_bytes() if limit is None else limit)
    if b"\x00" in raw:
        raise ValueError("binary content (NUL bytes); expected UTF-8 CSV")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"not UTF-8 (byte {exc.start}); save the file as UTF-8, e.g. iconv -f latin1 -t utf-8"
        ) from exc


_BOOL = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}


def _parse(text: str, fname: str, problems: list[Problem]):
    """The table as columns of stripped strings (object arrays, by column name) and a LINE column
    (file line numbers), or None when the file cannot be parsed; rows with a wrong number of
    cells are reported and dropped. pandas' C parser reads; on a parse error the csv module
    locates the bad line."""
    import numpy as np
    import pandas as pd

    # the header as the csv module reads it, from the lines it spans only (not a copy of the file)
    header = next(csv.reader(m.group() for m in _LINE.finditer(text)), [])
    seen: set[str] = set()
    for name in (h.strip() for h in header):
        if name in seen:
            problems.append(Problem(fname, 1, name, "duplicate column"))
            return None
        if name == LINE:
            problems.append(Problem(fname, 1, name, "unknown column"))
            return None
        seen.add(name)
    encoded = text.encode("utf-8")
    octets = np.frombuffer(encoded, dtype=np.uint8)
    try:  # cells as Python strings (object columns): pandas' own text type is slower to test
        frame = pd.read_csv(io.BytesIO(encoded), dtype=object, keep_default_na=False,
                            na_filter=True, na_values=[], skip_blank_lines=False, engine="c")
    except (pd.errors.ParserError, ValueError) as exc:
        return _locate(text, fname, problems, str(exc))
    if not isinstance(frame.index, pd.RangeIndex):  # rows wider than the header everywhere
        return _locate(text, fname, problems, "rows have more cells than the header")
    frame.columns = [str(c).strip() for c in frame.columns]
    # pandas fills a row with fewer cells than the header with empty ones: each row's own width
    # is read from the file (with the line numbers where a quoted cell spans lines)
    width = len(frame.columns)
    if '"' in text:
        lines, widths = _records(text, len(frame))
    else:
        lines = frame.index + 2
        whole = np.count_nonzero(octets == 44) == (width - 1) * (len(frame) + 1)  # each line has the header's commas
        widths = None if whole else _line_widths(octets, len(frame))
    table = {col: frame[col].to_numpy() for col in frame.columns}
    if _padded(encoded, octets):  # only then pay for stripping every cell
        table = {col: _strip(cells) for col, cells in table.items()}
    blank = np.ones(len(frame), dtype=bool)
    short = np.zeros(len(frame), dtype=bool) if widths is None else np.asarray(widths) < width
    for cells in table.values():
        absent = _absent(cells)
        short |= absent
        if blank.any():  # only the rows blank so far are compared
            blank[blank] = absent[blank] | (cells[blank] == "")
    table[LINE] = np.asarray(lines, dtype=np.int64)
    cells_in_row = np.full(len(frame), -1) if widths is None else np.asarray(widths)
    if blank.any():
        table, short, cells_in_row = ({col: cells[~blank] for col, cells in table.items()}, short[~blank],
                                      cells_in_row[~blank])
    for line, n in zip(table[LINE][short], cells_in_row[short], strict=True):
        have = f"{n} cells where the header has {width}" if n >= 0 else "fewer cells than the header has"
        problems.append(Problem(fname, int(line), None, have))
    if short.any():
        table = {col: cells[~short] for col, cells in table.items()}
    return table


_LINE = re.compile(r"[^\r\n]*(?:\r\n?|\n)|[^\r\n]+")  # a line as io.StringIO(text, newline="") gives it


# White space a cell is read without, at either end, whether or not any other cell of the file is
# padded: every character str.strip removes (tests check this list against Python's). Those other
# than a space and the line breaks are looked for anywhere in a file.
_ODD_ASCII_SPACE = (b"\t", b"\x0b", b"\x0c", b"\x1c", b"\x1d", b"\x1e", b"\x1f")


_WIDE_SPACE = ("\x85", "\xa0", "\u1680", *map(chr, range(0x2000, 0x200B)), "\u2028", "\u2029", "\u202f",
               "\u205f", "\u3000")


@functools.cache
def _byte_classes():
    """Lookup tables over byte values (a cell's edge: a comma, a line break or a quote; a line
    break; a comma or a line break), and the UTF-8 bytes of each of _WIDE_SPACE as numbers (the
    2-byte ones, the 3-byte ones)."""
    import numpy as np

    def of(*values):
        table = np.zeros(256, dtype=bool)
        table[list(values)] = True
        return table

    wide = [c.encode("utf-8") for c in _WIDE_SPACE]
    return (of(44, 10, 13, 34), of(10, 13), of(44, 10, 13),
            np.array([int.from_bytes(w, "big") for w in wide if len(w) == 2], dtype=np.uint32),
            np.array([int.from_bytes(w, "big") for w in wide if len(w) == 3], dtype=np.uint32))


def _padded(encoded: bytes, b) -> bool:
    """Whether a cell of the file may begin or end with white space (see _WIDE_SPACE): any white
    space but a space and the line breaks anywhere; a space beside a comma, a line break, a quote
    or either end of the file; a line break just inside a quoted cell. Read over the UTF-8 bytes
    (b: the same as an array; each ASCII character is one byte that no other character holds),
    looking only beside each space, each quote and each byte that may begin a wide space; it may
    say a file is padded when it is not (its cells are then stripped for nothing), never the
    reverse."""
    import numpy as np

    if any(c in encoded for c in _ODD_ASCII_SPACE):
        return True
    if not len(b):
        return False
    if encoded[:1] == b" " or encoded[-1:] == b" " or encoded[:2] in (b'"\n', b'"\r') \
            or encoded[-2:] in (b'\n"', b'\r"'):
        return True
    edge, line_break, separator, wide2, wide3 = _byte_classes()
    inner = slice(1, len(b) - 1)  # bytes with a byte on either side (the ends are seen above)
    if not encoded.isascii():
        at = np.flatnonzero(b[: len(b) - 2] >= 0xC2)  # each of _WIDE_SPACE begins with one of 0xC2 to 0xE3
        two = (b[at].astype(np.uint32) << 8) | b[at + 1]
        if np.isin(two, wide2).any() or np.isin((two << 8) | b[at + 2], wide3).any():
            return True
        if encoded[-2:] in ("\x85".encode(), "\xa0".encode()):
            return True
    if b" " in encoded:
        at = np.flatnonzero(b[inner] == 32) + 1
        if (edge[b[at - 1]] | edge[b[at + 1]]).any():
            return True
    if b'"' in encoded:
        at = np.flatnonzero(b[inner] == 34) + 1
        before, after = b[at - 1], b[at + 1]
        return bool((separator[before] & line_break[after]).any() or (line_break[before] & separator[after]).any())
    return False


def _strip(cells):
    """Each text cell of an object array without its surrounding white space."""
    import numpy as np

    out = np.empty(len(cells), dtype=object)
    out[:] = [c.strip() if isinstance(c, str) else c for c in cells]
    return out


def _absent(values):
    """pd.isna of a column or an array, as an array, without testing each cell of an object
    column whose every cell is text (a test per cell costs more than the rest of a check)."""
    import numpy as np
    import pandas as pd

    if values.dtype == object and pd.api.types.infer_dtype(values, skipna=False) == "string":
        return np.zeros(len(values), dtype=bool)
    return np.asarray(pd.isna(values))


def _locate(text: str, fname: str, problems: list[Problem], reason: str) -> None:
    """Name the first line the csv module cannot read as a row of the header's width."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        width = None
        for row in reader:
            if width is None:
                width = len(row)
            elif row and len(row) != width:
                problems.append(Problem(fname, reader.line_num, None,
                                        f"{len(row)} cells where the header has {width}"))
                return None
    except csv.Error as err:
        problems.append(Problem(fname, reader.line_num, None, f"broken CSV: {err}"))
        return None
    problems.append(Problem(fname, None, None, f"unreadable CSV: {reason.strip()}"))
    return None


def _records(text: str, count: int) -> tuple[list[int], list[int] | None]:
    """The file line each of the first count records under the header starts on (a quoted cell
    may span lines) and its number of cells; None for the widths when the records are not the
    rows pandas read."""
    reader = csv.reader(io.StringIO(text, newline=""))
    starts, widths, previous = [], [], 0
    for row in reader:
        starts.append(previous + 1)
        widths.append(len(row))
        previous = reader.line_num
    starts, widths = starts[1:], widths[1:]  # the header
    if len(starts) < count:
        return [i + 2 for i in range(count)], None
    return starts[:count], widths[:count]


def _line_widths(b, count: int):
    """The number of cells on each of the first count lines under the header of a file with no
    quotes (its commas plus one; b: its UTF-8 bytes as an array), or None when the file has fewer
    lines. A line ends at a line feed, a carriage return, or both."""
    import numpy as np

    lf = b == 10
    ends = np.flatnonzero(lf | ((b == 13) & ~np.append(lf[1:], False)))
    if len(ends) == 0 or ends[-1] != len(b) - 1:
        ends = np.append(ends, len(b))  # a last line without a line break
    commas = np.diff(np.searchsorted(np.flatnonzero(b == 44), ends), prepend=0)
    if len(commas) < count + 1:
        return None
    return commas[1:count + 1] + 1
