"""Personal data and private files: masking of reporters' names and phone numbers for display
and API output, and files only their owner may read (the database, the log, secrets).

>>> [mask_phone(p) for p in ("13800138000", "0712-8881234", "88812345", "12345", "110", "7")]
['138****8000', '071****1234', '****2345', '***45', '***', '*']
>>> [mask_name(n) for n in ("张三丰", "Li Hua", "王")]
['张**', 'L*****', '*']
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

__all__ = ["mask_name", "mask_phone", "private_file", "private_log_handler"]

#: Read and write for the owner only.
PRIVATE_MODE = 0o600


def mask_phone(phone: str | None) -> str:
    """A phone number with most of its digits hidden, whatever its length.

    Eleven digits or more (a mobile number, a landline with its area code) keep the first 3 and
    the last 4 (``13800138000`` -> ``138****8000``); 8 to 10 keep the last 4; 5 to 7 the last
    2; four or fewer (an extension, a short service number, a typo) keep none. A number is
    never shown whole: at least 3 of its digits are hidden, all of a short one.
    """
    digits = re.sub(r"\D", "", phone or "")
    n = len(digits)
    if n >= 11:
        return digits[:3] + "*" * (n - 7) + digits[-4:]
    keep = 4 if n >= 8 else 2 if n >= 5 else 0
    return "*" * (n - keep) + digits[n - keep :]


def mask_name(name: str | None) -> str:
    """``张三丰`` -> ``张**``; ``Li Hua`` -> ``L*****``; a one-character name -> ``*``."""
    name = (name or "").strip()
    if len(name) <= 1:
        return "*" * len(name)
    return name[:1] + "*" * (len(name) - 1)


def private_file(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` (and its folder) readable and writable by its owner only, or tighten an
    existing file to that mode; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_MODE))
    if path.stat().st_mode & 0o077:
        path.chmod(PRIVATE_MODE)
    return path


def private_log_handler(path: str | os.PathLike[str]) -> logging.Handler:
    """A log handler appending to ``path``, a file only its owner may read
    (:func:`private_file`), with the format of the console's log."""
    handler = logging.FileHandler(private_file(path), encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    return handler
