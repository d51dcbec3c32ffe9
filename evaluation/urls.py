from __future__ import annotations

app_name = "evaluation"
urlpatterns: list = []
