"""What `costcurve sql`, `changes` and `status` write to stdout: CSV that a spreadsheet opens as data
(every CSV the command writes goes through ``write_csv``), JSON whose numbers are numbers
(``json_text``), and output that stops quietly when its reader does (``piped``).

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula to
Excel, LibreOffice and Google Sheets (``=cmd|' /C calc'!A0`` runs a program on an old Excel). Model
names, instance types and source notes come from upstream feeds, so such a cell gets a leading single
quote, as OWASP's CSV-injection guidance recommends: the spreadsheet shows the text, with the quote
hidden. Numeric, date and boolean columns are written as they are, so a negative price stays a number.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import IO

import polars as pl

# OWASP's list of the characters that start a formula.
FORMULA_START = r"^[=+\-@\t\r]"


def write_csv(frame: pl.DataFrame, out: IO[str]) -> None:
    """Write ``frame`` as CSV to ``out`` with every formula-like text cell neutralized.

    CSV has no lists or structs: such a cell is written as its JSON text (which starts with ``[`` or
    ``{``, never with a formula character).
    """
    nested = [c for c, t in frame.schema.items() if t.is_nested()]
    frame = frame.with_columns(
        pl.col(c).map_elements(
            # polars hands a list cell over as a Series.
            lambda v: json.dumps(v.to_list() if isinstance(v, pl.Series) else v, default=str),
            return_dtype=pl.String,
        )
        for c in nested
    )
    text = [c for c, t in frame.schema.items() if t in (pl.String, pl.Categorical) or isinstance(t, pl.Enum)]
    frame = frame.with_columns(
        pl.when(pl.col(c).cast(pl.String).str.contains(FORMULA_START))
        .then("'" + pl.col(c).cast(pl.String))
        .otherwise(pl.col(c).cast(pl.String))
        .alias(c)
        for c in text
    )
    # A header is a cell too: `select 1 as "=cmd()"` names a column. The text is built whole before
    # it is written, so a column CSV cannot hold (a BLOB) fails before any line is out.
    out.write(frame.rename({c: _neutral(c) for c in frame.columns}).write_csv())


def _neutral(text: str) -> str:
    return f"'{text}" if re.match(FORMULA_START, text) else text


def json_text(value: object) -> str:
    """``value`` as indented JSON: a Decimal (a price column) is a JSON number, anything else JSON has
    no type for (a date, a timestamp) its text."""
    return json.dumps(value, default=_json_value, indent=2)


def _json_value(value: object) -> object:
    # A JSON reader parses a number into a double whatever digits it is written with, so the float
    # loses nothing the reader would keep; a string would make every reader convert it by hand.
    return float(value) if isinstance(value, Decimal) else str(value)


@contextmanager
def piped() -> Iterator[None]:
    """Write to stdout for a reader that may stop early (``| head``): a closed pipe ends the output
    quietly instead of with a traceback."""
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        # Python flushes stdout again at exit and would report the closed pipe then.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
