from __future__ import annotations

import io
import json
from unittest import mock

from django.urls import reverse

from annotate.quality import refresh
from annotate.services.importing import import_comparisons
from annotate.services.judgment_imports import import_judgments
from annotate.tasks import refresh_quality_report
from tests.factories import CampaignFactory, LocaleFactory


def _campaign_with_people_and_judges() -> None:
    """Thirty pairs, each judged by two annotators (who mostly agree) and by two AI judges."""
    CampaignFactory(slug="q", overlap=2, locales=[LocaleFactory(code="en-US")])
    rows = [
        {"id": f"p{i}", "prompt": f"Q{i}?", "candidates": [{"id": "x", "text": "X."}, {"id": "y", "text": "Y."}]}
        for i in range(30)
    ]
    import_comparisons(campaign_slug="q", data="\n".join(map(json.dumps, rows)).encode())
    votes = []
    for i in range(30):
        outcome = "a" if i % 3 else "b"
        votes.append({"prompt_id": f"p{i}", "a": "x", "b": "y", "outcome": outcome, "annotator": "w1"})
        votes.append(
            {"prompt_id": f"p{i}", "a": "x", "b": "y", "outcome": outcome if i % 10 else "tie", "annotator": "w2"}
        )
        for model in ("j1", "j2"):
            votes.append({"prompt_id": f"p{i}", "a": "x", "b": "y", "outcome": "a", "judge": {"model": model}})
    import_judgments(campaign_slug="q", lines=io.BytesIO("\n".join(map(json.dumps, votes)).encode()))


def test_the_report_is_human_by_default_and_judges_on_request(db, api_for, lena):
    _campaign_with_people_and_judges()
    api = api_for(lena)
    url = reverse("api_campaign_quality", args=["q"])
    human = api.get(url).json()
    assert (human["source"], human["judgments"], human["reviewers"]) == ("human", 60, 2)
    assert {row["name"] for row in human["reviewer_rows"]} == {"annotator:w1", "annotator:w2"}
    (pair,) = human["kappas"]
    assert (pair["name_a"], pair["name_b"], pair["shared"]) == ("annotator:w1", "annotator:w2", 30)
    assert [row["metric"] for row in human["headline"]][:1] and all("low" in row for row in human["headline"])
    judges = api.get(url, {"source": "ai"}).json()
    assert {row["name"] for row in judges["reviewer_rows"]} == {"judge:j1", "judge:j2"}
    assert api.get(url, {"source": "all"}).json()["judgments"] == 120


def test_an_unknown_source_is_a_400_naming_the_field(db, api_for, lena):
    CampaignFactory(slug="q")
    response = api_for(lena).get(reverse("api_campaign_quality", args=["q"]), {"source": "robots"})
    assert response.status_code == 400 and "source" in response.json()


def test_a_big_campaigns_first_report_answers_202_while_a_worker_computes_it(db, api_for, lena):
    _campaign_with_people_and_judges()
    with mock.patch.object(refresh, "SYNC_MAX_JUDGMENTS", 0), mock.patch.object(refresh_quality_report, "delay"):
        response = api_for(lena).get(reverse("api_campaign_quality", args=["q"]))
    assert response.status_code == 202 and response.json()["computing"] is True
