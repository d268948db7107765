"""What the command line prints on stdout and the exit statuses: a result as JSON (``--json``)
or as a table for people, percentages as the tables write them."""
from __future__ import annotations

import json
from typing import Any

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def emit(data: Any, as_json: bool, table: str) -> None:
    """``data`` as indented JSON with ``--json``, else the ``table``."""
    print(json.dumps(data, indent=2, ensure_ascii=False) if as_json else table)


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f} %"
