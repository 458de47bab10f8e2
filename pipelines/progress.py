"""Live progress of a refresh in the terminal: each step as it ends, each source as it lands.

A Dagster logger (`progress`), so it sees the run's events as they happen instead of after
`execute_in_process` returns. `costcurve refresh` switches it on; the UI's runs do not use it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from functools import cache

import dagster as dg
from dagster._core.log_manager import LOG_RECORD_METADATA_ATTR
from rich.markup import escape

# Where the lines go: the CLI sets its rich console's print here before it runs the job.
_sink: list[Callable[[str], None]] = []
# Set while the CLI prints progress, so steps running in processes of their own (the multiprocess
# executor on a shared lake) print theirs to the terminal they inherit.
PRINTING = "COSTCURVE_PROGRESS"


def printing_to(sink: Callable[[str], None]):
    """Send progress lines to ``sink`` while the returned context is open."""

    class _Using:
        def __enter__(self):
            _sink.append(sink)
            os.environ[PRINTING] = "1"

        def __exit__(self, *exc):
            _sink.remove(sink)
            if not _sink:
                os.environ.pop(PRINTING, None)

    return _Using()


@cache
def _stderr() -> Callable[[str], None]:
    from rich.console import Console

    return Console(stderr=True).print


def _print() -> Callable[[str], None] | None:
    if _sink:
        return _sink[-1]
    return _stderr() if os.environ.get(PRINTING) == "1" else None


class _Lines(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        say = _print()
        if say is None:
            return
        meta = getattr(record, LOG_RECORD_METADATA_ATTR, None) or {}
        event = meta.get("dagster_event")
        step = meta.get("step_key")
        if event is not None:
            if event.event_type_value == "STEP_SUCCESS":
                say(f"  [green]✓[/] {step}")
            elif event.event_type_value == "STEP_FAILURE":
                say(f"  [red]✗[/] {step}: {escape(event.event_specific_data.error.message.strip())}")
        elif step and record.levelno >= logging.INFO:
            # What the step itself says: one line per source of a staging step.
            say(f"      {step}: {escape(str(meta.get('orig_message', record.getMessage())))}")


@dg.logger(description="Prints each step as it ends and each source as it lands (costcurve refresh).")
def progress(init_context) -> logging.Logger:
    log = logging.getLogger("costcurve.progress")
    log.setLevel(logging.DEBUG)  # step events are DEBUG records; the handler picks what it prints
    log.propagate = False
    log.handlers = [_Lines()]
    return log
