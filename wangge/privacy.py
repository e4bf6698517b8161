"""Masking of personal data (reporters' names and phone numbers) for display and API output."""

from __future__ import annotations

import re

__all__ = ["mask_name", "mask_phone"]


def mask_phone(phone: str | None) -> str:
    """``13800138000`` -> ``138****8000``; short numbers keep only their last 2 digits."""
    digits = re.sub(r"\D", "", phone or "")
    if not digits:
        return ""
    if len(digits) >= 7:
        return digits[:3] + "*" * max(4, len(digits) - 7) + digits[-4:]
    return "*" * (len(digits) - 2) + digits[-2:]


def mask_name(name: str | None) -> str:
    """``张三丰`` -> ``张**``; ``Li Hua`` -> ``L*****``."""
    name = (name or "").strip()
    return name[:1] + "*" * (len(name) - 1) if name else ""
