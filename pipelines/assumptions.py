"""Which assumption set a run uses: $COSTCURVE_ASSUMPTIONS, else the repository's assumptions.toml."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from core.assumptions import Assumptions

DEFAULT_FILE = Path(__file__).resolve().parents[1] / "assumptions.toml"


def path() -> Path:
    return Path(os.environ.get("COSTCURVE_ASSUMPTIONS") or DEFAULT_FILE)


def load(file: Path | None = None) -> Assumptions:
    file = file or path()
    try:
        values = tomllib.loads(file.read_text())
    except FileNotFoundError:
        raise ValueError(f"assumptions file {file} does not exist (COSTCURVE_ASSUMPTIONS)") from None
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"assumptions file {file} is not valid TOML: {e}") from None
    try:
        return Assumptions.from_mapping(values)
    except (TypeError, ValueError) as e:
        raise ValueError(f"assumptions file {file}: {e}") from None
