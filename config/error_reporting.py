"""Debug pages that never show a password: Django hides settings named like secrets, this also hides the password
inside any URL (`DATABASE_URL`, `CELERY_BROKER_URL`, a Redis cache `LOCATION`, environment variables in the request)."""

from __future__ import annotations

import re

from django.views.debug import SafeExceptionReporterFilter

# scheme://user:password@host → the password part; also scheme://:password@host (Redis).
URL_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*:)(?P<password>[^@\s]+)(?P<tail>@)")


def mask_url_passwords(text: str) -> str:
    """`postgres://user:secret@host/db` → `postgres://user:********************@host/db`."""
    return URL_PASSWORD.sub(
        lambda match: match["head"] + SafeExceptionReporterFilter.cleansed_substitute + match["tail"], text
    )


class UrlPasswordFilter(SafeExceptionReporterFilter):
    """Cleanses settings, request META and frame variables as Django does, then masks passwords in URLs.

    `type(...) is str`, not isinstance: lazy settings objects pass isinstance but are not strings.
    """

    def cleanse_setting(self, key, value):
        cleansed = super().cleanse_setting(key, value)
        return mask_url_passwords(cleansed) if type(cleansed) is str else cleansed

    def get_traceback_frame_variables(self, request, tb_frame):
        return [
            (name, mask_url_passwords(value) if type(value) is str else value)
            for name, value in super().get_traceback_frame_variables(request, tb_frame)
        ]
