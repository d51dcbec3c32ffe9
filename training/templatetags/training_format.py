"""Filters for training pages: durations and badges."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def duration(seconds) -> str:
    """12.3 → "12s", 125 → "2m 05s", 7260 → "2h 01m" (seconds or a timedelta); empty for unknown."""
    if seconds is None:
        return ""
    if hasattr(seconds, "total_seconds"):
        seconds = seconds.total_seconds()
    seconds = int(round(float(seconds)))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


@register.filter
def percent(value) -> str:
    return "" if value is None else f"{100 * float(value):.1f}%"


@register.filter
def signed(value, digits: int = 4) -> str:
    return "" if value is None else f"{float(value):+.{int(digits)}f}"
