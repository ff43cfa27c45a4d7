"""Where an exception came from, in words that are useful and free of data."""

from __future__ import annotations

import traceback


def failure_site(exc: BaseException) -> str:
    """``module:function:line`` of where an exception was raised (never its message: it may hold data)."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "unknown"
    frame = frames[-1]
    module = frame.filename.rsplit("/", 1)[-1]
    return f"{module}:{frame.name}:{frame.lineno}"
