"""REST API for reviewers: POST next → 200/204, POST judgment → 201/200/400/404/409; token or session auth."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from annotate.models import Assignment, Judgment, Outcome
from annotate.review_selectors import side_id
from annotate.services.tokens import api_token_create
from tests.annotate.review_helpers import campaign_with_pairs, rubric_with

pytestmark = pytest.mark.django_db


def next_url(campaign) -> str:
    return reverse("api_next_assignment", args=[campaign.slug])


def judgment_url(assignment_id: int) -> str:
    return reverse("api_assignment_judgment", args=[assignment_id])


@pytest.fixture
def campaign():
    campaign, _ = campaign_with_pairs(
        2, overlap=2, rubric=rubric_with({"key": "accuracy", "label": "Accuracy", "scale": 5, "required": True})
    )
    return campaign


def test_next_returns_a_blind_pair_with_the_rubric(api_for, alice, campaign):
    response = api_for(alice).post(next_url(campaign))
    assert response.status_code == 200
    body = response.json()
    assignment = Assignment.objects.get(pk=body["assignment"])
    comparison = assignment.comparison
    left, right = (
        (comparison.candidate_a, comparison.candidate_b)
        if assignment.a_on_left
        else (comparison.candidate_b, comparison.candidate_a)
    )
    assert body["left"] == {"id": side_id(assignment_id=assignment.pk, candidate_id=left.pk), "text": left.text}
    assert body["right"] == {"id": side_id(assignment_id=assignment.pk, candidate_id=right.pk), "text": right.text}
    assert body["prompt"]["text"] == comparison.prompt.text
    assert body["rubric"]["criteria"][0]["key"] == "accuracy"
    assert body["expires_at"].startswith(str(assignment.expires_at.year))
    flat = response.content.decode()
    assert "atlas" not in flat and "borealis" not in flat and "gold" not in flat


def test_next_again_returns_the_same_assignment(api_for, alice, campaign):
    api = api_for(alice)
    assert api.post(next_url(campaign)).json()["assignment"] == api.post(next_url(campaign)).json()["assignment"]


def test_next_answers_204_when_nothing_is_left(api_for, alice):
    campaign, _ = campaign_with_pairs(0)
    response = api_for(alice).post(next_url(campaign))
    assert response.status_code == 204 and not response.content


def test_next_on_an_unknown_or_unqualified_campaign_is_404(api_for, alice):
    japanese, _ = campaign_with_pairs(1, locale="ja-JP")
    api = api_for(alice)
    assert api.post(next_url(japanese)).status_code == 404
    assert api.post(reverse("api_next_assignment", args=["no-such-campaign"])).status_code == 404


def test_a_judgment_is_created_then_repeated(api_for, alice, campaign):
    api = api_for(alice)
    assignment_id = api.post(next_url(campaign)).json()["assignment"]
    payload = {
        "choice": "right",
        "strength": "strong",
        "ratings": {"left": {"accuracy": 2}, "right": {"accuracy": 5}},
        "critique": "Right cites a source.",
        "time_taken_ms": 8000,
    }
    created = api.post(judgment_url(assignment_id), payload, format="json")
    assert created.status_code == 201
    assert created.json()["choice"] == "right"
    repeat = api.post(judgment_url(assignment_id), {**payload, "choice": "left"}, format="json")
    assert repeat.status_code == 200 and repeat.json()["judgment"] == created.json()["judgment"]
    judgment = Judgment.objects.get()
    a_on_left = judgment.assignment.a_on_left
    assert judgment.outcome == (Outcome.B if a_on_left else Outcome.A)
    assert judgment.ratings["b" if a_on_left else "a"] == {"accuracy": 5}
    assert judgment.time_taken_ms == 8000


def test_invalid_judgments_answer_400_with_field_messages(api_for, alice, campaign):
    api = api_for(alice)
    assignment_id = api.post(next_url(campaign)).json()["assignment"]
    response = api.post(
        judgment_url(assignment_id),
        {"choice": "escalate", "ratings": {"left": {"accuracy": 9}, "right": {}}},
        format="json",
    )
    assert response.status_code == 400
    errors = response.json()
    assert set(errors) == {"critique", "ratings.left.accuracy", "ratings.right.accuracy"}
    assert errors["ratings.left.accuracy"] == ["Accuracy: pick a whole number from 1 to 5"]
    assert not Judgment.objects.exists()


def test_someone_elses_assignment_is_404(api_for, alice, bob, campaign):
    assignment_id = api_for(alice).post(next_url(campaign)).json()["assignment"]
    response = api_for(bob).post(judgment_url(assignment_id), {"choice": "tie"}, format="json")
    assert response.status_code == 404
    assert not Judgment.objects.exists()


def test_an_expired_lease_whose_pair_filled_up_answers_409(api_for, alice, bob, campaign):
    alice_api, bob_api = api_for(alice), api_for(bob)
    campaign.overlap = 1
    campaign.save(update_fields=["overlap"])
    first = alice_api.post(next_url(campaign)).json()["assignment"]
    Assignment.objects.filter(pk=first).update(expires_at=timezone.now() - timedelta(minutes=1))
    ratings = {"left": {"accuracy": 3}, "right": {"accuracy": 3}}
    # bob takes both pairs: alice's expired slot is swept and handed to him
    for _ in range(2):
        taken = bob_api.post(next_url(campaign)).json()["assignment"]
        bob_api.post(judgment_url(taken), {"choice": "tie", "ratings": ratings}, format="json")
    response = alice_api.post(judgment_url(first), {"choice": "tie", "ratings": ratings}, format="json")
    assert response.status_code == 409 and "ran out" in response.json()["assignment"][0]


def test_token_auth_works_and_anonymous_is_refused(alice, campaign):
    client = APIClient()
    assert client.post(next_url(campaign)).status_code in (401, 403)
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_create(user=alice)}")
    assert client.post(next_url(campaign)).status_code == 200


def test_session_auth_works(client_for, alice, campaign):
    assert client_for(alice).post(next_url(campaign)).status_code == 200


def test_the_next_call_uses_a_small_fixed_number_of_queries(api_for, alice, campaign, django_assert_num_queries):
    api = api_for(alice)
    with django_assert_num_queries(10):
        assert api.post(next_url(campaign)).status_code == 200
