from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, register_converter

from config.api_docs import DocsView, SchemaView
from config.ids import IdConverter

# Before the includes below import the apps' routes, which use it.
register_converter(IdConverter, "id")

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/v1/schema/", SchemaView.as_view(), name="api_schema"),
    path("api/v1/docs/", DocsView.as_view(), name="api_docs"),
    path("api/v1/", include("annotate.api_urls")),
    path("api/v1/", include("training.api_urls")),
    path("api/v1/", include("evaluation.api_urls")),
    path("training/", include("training.urls")),
    path("evaluation/", include("evaluation.urls")),
    path("", include("annotate.urls")),
]

handler404 = "config.error_views.page_not_found"
handler500 = "config.error_views.server_error"
