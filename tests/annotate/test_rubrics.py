from __future__ import annotations

import pytest

from annotate.models import Rubric, RubricInUseError
from annotate.services.rubrics import RubricError, rubric_revise
from tests.factories import CampaignFactory, RubricFactory

CRITERIA = [{"key": "tone", "label": "Tone", "description": "", "scale": 3}]


def test_an_unused_rubric_is_edited_in_place(db):
    rubric = RubricFactory()
    revised = rubric_revise(rubric=rubric, title="New", guidelines="g", criteria=CRITERIA)
    assert revised.pk == rubric.pk and Rubric.objects.get(pk=rubric.pk).title == "New"


def test_editing_a_used_rubric_creates_the_next_version_and_keeps_the_old(db):
    campaign = CampaignFactory()
    rubric = campaign.rubric
    revised = rubric_revise(rubric=rubric, title="Changed", guidelines="g2", criteria=CRITERIA)
    assert (revised.slug, revised.version) == (rubric.slug, 2)
    rubric.refresh_from_db()
    assert rubric.title == "Test rubric" and campaign.rubric_id == rubric.pk


def test_saving_a_used_rubric_directly_is_refused(db):
    rubric = CampaignFactory().rubric
    rubric.guidelines = "sneaky"
    with pytest.raises(RubricInUseError):
        rubric.save()


def test_admin_edit_of_used_rubric_saves_a_new_version(client, db):
    from tests.factories import UserFactory

    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    rubric = CampaignFactory().rubric
    client.force_login(admin)
    response = client.post(
        f"/admin/annotate/rubric/{rubric.pk}/change/",
        {
            "slug": rubric.slug,
            "version": 1,
            "title": "Edited",
            "guidelines": "x",
            "criteria": '[{"key": "k", "scale": 5}]',
            "created_at_0": "2026-01-01",
            "created_at_1": "00:00:00",
        },
    )
    assert response.status_code == 302
    assert Rubric.objects.filter(slug=rubric.slug).count() == 2
    assert Rubric.objects.get(pk=rubric.pk).title == "Test rubric"


def test_criteria_need_unique_keys_and_a_scale(db):
    with pytest.raises(RubricError, match="duplicate key"):
        rubric_revise(rubric=RubricFactory(), title="t", guidelines="", criteria=[{"key": "a"}, {"key": "a"}])
    with pytest.raises(RubricError, match="scale"):
        rubric_revise(rubric=RubricFactory(), title="t", guidelines="", criteria=[{"key": "a", "scale": 1}])
