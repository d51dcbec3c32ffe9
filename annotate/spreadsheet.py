"""CSV cells that are safe to open in a spreadsheet (pure: no Django).

Text from imports and usernames reaches the quality CSVs; a cell starting with `=`, `+`, `-`, `@`, a tab or a
carriage return is run as a formula by Excel, LibreOffice and Google Sheets (OWASP's "CSV injection"). Such a cell
gets a leading `'`, which spreadsheets show as text. Numbers stay numbers: `-0.12` is left alone.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """The value to write in a CSV cell: text that a spreadsheet would evaluate is prefixed with `'`."""
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return value
    try:
        float(value)
    except ValueError:
        return "'" + value
    return value
