"""The API's schema and docs pages (kept apart from config.api, which DRF's settings import)."""

from __future__ import annotations

from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from annotate.permissions import IsReviewer


class SchemaView(SpectacularAPIView):
    """The OpenAPI 3 document, for anyone signed in with a role (it names no data, only shapes)."""

    permission_classes = [IsReviewer]


class DocsView(SpectacularSwaggerView):
    """Swagger UI over the schema, served from drf-spectacular-sidecar's static files (no CDN)."""

    permission_classes = [IsReviewer]
    url_name = "api_schema"
