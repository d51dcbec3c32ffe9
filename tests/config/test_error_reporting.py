"""With DEBUG=true the technical 500 page shows settings and the request's environment: never a URL's password."""

from __future__ import annotations

import pytest

from config.error_reporting import UrlPasswordFilter, mask_url_passwords


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgres://verdict:hunter2@db:5432/verdict", "postgres://verdict:********************@db:5432/verdict"),
        ("redis://:hunter2@cache:6379/1", "redis://:********************@cache:6379/1"),
        ("amqp://user:p%40ss@mq//", "amqp://user:********************@mq//"),
        ("redis://cache:6379/0", "redis://cache:6379/0"),
        ("sqlite:////srv/var/verdict.sqlite3", "sqlite:////srv/var/verdict.sqlite3"),
    ],
)
def test_passwords_inside_urls_are_masked(url, masked):
    assert mask_url_passwords(url) == masked


def test_settings_with_urls_are_cleansed_at_any_depth(settings):
    settings.DATABASE_URL = "postgres://verdict:hunter2@db/verdict"
    settings.CELERY_BROKER_URL = "redis://:hunter2@broker:6379/0"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"sentinels": ["redis://:hunter2@s1:26379"], "visibility_timeout": 60}
    settings.VERDICT_CACHE_COPY = {"default": {"LOCATION": "redis://:hunter2@cache:6379/1"}}
    safe = UrlPasswordFilter().get_safe_settings()
    assert "hunter2" not in repr(safe)
    assert safe["DATABASE_URL"].startswith("postgres://verdict:***")
    assert safe["CELERY_BROKER_TRANSPORT_OPTIONS"]["visibility_timeout"] == 60


@pytest.mark.urls("tests.config.error_urls")
def test_the_debug_page_never_shows_a_url_password(client, settings, monkeypatch):
    settings.DEBUG = True
    settings.DATABASE_URL = "postgres://verdict:hunter2@db/verdict"
    settings.CACHES = {
        **settings.CACHES,
        "shared": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://:hunter2@c:6379/1"},
    }
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://:hunter2@broker:6379/0")
    client.raise_request_exception = False
    response = client.get("/boom/", CELERY_BROKER_URL="redis://:hunter2@broker:6379/0")
    body = response.content.decode()
    assert response.status_code == 500 and "DATABASE_URL" in body and "CELERY_BROKER_URL" in body
    assert "hunter2" not in body
