"""How the CLI's tables meet a terminal: a grid when every column fits whole, else one record per block.

rich squeezes a grid that is too wide by cutting cells to ``…``, down to one character: a ``select *``
at 80 columns shows nothing but ellipses. ``show`` never lets it. Each column has a width below which
it stops being readable: a ``no_wrap`` column (a key: source, dataset, model) its longest cell, a
``fold`` column (free text: notes, errors) a few characters, as it breaks anywhere, and any other
column its longest word (it wraps between words). When those widths fit the terminal, the grid is
printed with the room left over shared out; when they do not, every row is printed as a record,
one ``column  value`` line per field.
"""

from __future__ import annotations

from decimal import Decimal

from rich.cells import cell_len
from rich.console import Console
from rich.rule import Rule
from rich.table import Column, Table
from rich.text import Text

# A folding column narrower than this breaks every word of its text over lines.
FOLD_MIN = 16


def number(value: Decimal | float) -> str:
    """A number as it reads best: positional notation and no trailing zeros (2.5, 0.0375, 0,
    0.000000001), never ``0E-9`` nor ``2.500000000``."""
    # 15 significant digits are all a double holds for sure: the 0.7000000000000001 of a sum is 0.7.
    exact = value if isinstance(value, Decimal) else Decimal(format(value, ".15g"))
    if not exact.is_finite():
        return str(value)
    text = format(exact, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def cell(value: object) -> str:
    """A value as a table cell: nothing for NULL, numbers by ``number``."""
    if value is None:
        return ""
    if isinstance(value, Decimal | float):
        return number(value)
    return str(value)


def show(console: Console, table: Table, wide: bool = False) -> None:
    """Print ``table`` as a grid if its columns fit ``console`` whole (or ``wide`` asks for the grid
    whatever the width), else as records. Sets the widths of ``table``'s columns."""
    widths = [_widths(column) for column in table.columns]
    room = console.width - _frame_width(table)
    if wide:
        # As wide as its longest cells: the terminal or `less -S` wraps or scrolls, nothing is cut.
        Console(file=console.file, width=_frame_width(table) + sum(high for _, high in widths)).print(table)
    elif sum(high for _, high in widths) <= room:
        console.print(table)
    elif sum(low for low, _ in widths) <= room:
        spare = room - sum(low for low, _ in widths)
        wanted = sum(high - low for low, high in widths)
        for column, (low, high) in zip(table.columns, widths, strict=True):
            column.width = low + (high - low) * spare // wanted
        console.print(table)
    else:
        _records(console, table)


def _widths(column: Column) -> tuple[int, int]:
    """The narrowest a column reads whole at, and its natural width (its longest line)."""
    texts = [_plain(column.header), *(_plain(c) for c in column.cells)]
    lines = [line for text in texts for line in text.splitlines() or [""]]
    high = max(map(cell_len, lines))
    if column.no_wrap:
        return high, high
    if column.overflow == "fold":
        return min(FOLD_MIN, high), high
    return max((cell_len(word) for line in lines for word in line.split()), default=0), high


def _frame_width(table: Table) -> int:
    """What the box and the padding take: a space either side of a cell and a line between cells."""
    _, right, _, left = table.padding
    n = len(table.columns)
    lines = (n - 1 + 2 * table.show_edge) if table.box else 0
    return n * (left + right) + lines


def _records(console: Console, table: Table) -> None:
    if table.title:
        console.print(table.title, style="italic")
    names = [_plain(column.header) for column in table.columns]
    cells = [list(column.cells) for column in table.columns]
    for index, row in enumerate(table.rows):
        console.print(Rule(style="dim"))
        record = Table.grid(padding=(0, 2))
        record.add_column(style="bold", no_wrap=True)
        record.add_column(overflow="fold")
        for name, column in zip(names, cells, strict=True):
            record.add_row(name, column[index], style=row.style)
        console.print(record)


def _plain(value: object) -> str:
    return value.plain if isinstance(value, Text) else str(value)
