"""WhiteNoise serves the collected static files with DEBUG off, as `make demo` and production run."""

from __future__ import annotations

import re

from django.core.management import call_command
from django.test import Client


def test_collected_htmx_is_served_with_debug_off_under_a_hashed_name(settings, tmp_path, alice):
    settings.DEBUG = False
    settings.STATIC_ROOT = tmp_path / "staticfiles"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    settings.WHITENOISE_USE_FINDERS = False  # only what collectstatic wrote
    call_command("collectstatic", "--noinput", verbosity=0)

    client = Client()
    client.force_login(alice)
    page = client.get("/").content.decode()
    htmx_url = re.search(r'src="(/static/vendor/htmx\.min\.[0-9a-f]{12}\.js)"', page).group(1)
    response = client.get(htmx_url)
    assert response.status_code == 200
    assert b"htmx" in b"".join(response.streaming_content)
    assert "immutable" in response["Cache-Control"]  # hashed names are cached for good
