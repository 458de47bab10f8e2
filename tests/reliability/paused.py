"""Run a costcurve command that stops at a chosen point and waits there to be killed.

    python paused.py MODULE FUNCTION before|after MARKER -- costcurve arguments...

When the process reaches MODULE.FUNCTION it writes MARKER (before the call, or after it returns)
and sleeps, so a test can SIGKILL it at exactly that point. Only this test process is patched:
product code has no test hooks.
"""

import importlib
import sys
import time
from pathlib import Path

module_name, function_name, when, marker, separator, *argv = sys.argv[1:]
assert separator == "--" and when in ("before", "after")
module = importlib.import_module(module_name)
original = getattr(module, function_name)


def paused(*args, **kwargs):
    if when == "after":
        original(*args, **kwargs)
    Path(marker).write_text(str(time.time()))
    time.sleep(120)
    raise SystemExit("paused.py: not killed within 120 s")


setattr(module, function_name, paused)

from pipelines.cli import main  # noqa: E402 - after the patch, as the refresh would import it

sys.exit(main(argv))
