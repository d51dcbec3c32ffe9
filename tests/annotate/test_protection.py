"""Protected prompts never reach a training split, in any campaign; evaluation campaigns stay out of exports unless
a lead includes them; a lead protects a campaign's prompts from its page or the API."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from annotate import selectors
from annotate.export_policy import ExportPolicy, PolicyError
from annotate.models import Campaign, ProtectedPrompt
from annotate.protection import normalise_prompt, prompt_digest
from annotate.services.exporting import export_preview, snapshot_create
from annotate.services.protection import campaign_prompts_protect, prompts_protect
from tests.factories import CampaignFactory, ComparisonFactory, JudgmentFactory, LocaleFactory, PromptFactory

QUESTION = "What is the capital of France?"


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return settings.DATA_DIR


@pytest.fixture
def en(db):
    return LocaleFactory(code="en-US")


@pytest.fixture
def ja(db):
    return LocaleFactory(code="ja-JP")


def judged_pair(campaign, *, text="", messages=None, locale=None, outcomes=("a",), prompt_id=None):
    extra = {"external_id": prompt_id} if prompt_id else {}
    prompt = PromptFactory(campaign=campaign, text=text, messages=messages, locale=locale, **extra)
    comparison = ComparisonFactory(prompt=prompt)
    for outcome in outcomes:
        JudgmentFactory(comparison=comparison, outcome=outcome)
    return comparison


def rows(snapshot, name: str) -> list[dict]:
    path = selectors.snapshot_file_path(snapshot=snapshot, name=name)
    return [json.loads(line) for line in path.read_text().splitlines()]


def pair_ids(snapshot, name: str) -> set[int]:
    key = "pair_id"
    return {row["meta"][key] if "meta" in row else row[key] for row in rows(snapshot, name)}


def export(campaigns, **policy):
    return snapshot_create(campaigns=campaigns, policy=ExportPolicy(**policy), created_by=None)


# --- normalisation ---------------------------------------------------------------------------------------------


def test_whitespace_case_and_the_one_message_chat_form_are_the_same_prompt():
    digest = prompt_digest(QUESTION)
    assert prompt_digest("  what IS the\tcapital\n of  FRANCE? ") == digest
    assert prompt_digest(messages=[{"role": "user", "content": QUESTION}]) == digest
    assert normalise_prompt(QUESTION) == "what is the capital of france?"


def test_a_conversation_keeps_its_roles_and_order():
    turns = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": QUESTION}]
    assert prompt_digest(messages=turns) != prompt_digest(QUESTION)
    assert prompt_digest(messages=turns) != prompt_digest(messages=turns[::-1])
    assert prompt_digest(messages=[{"role": "system", "content": " BE  brief."}, turns[1]]) == prompt_digest(
        messages=turns
    )


def test_protecting_twice_adds_nothing(en):
    assert prompts_protect(prompts=[(QUESTION, "en-US"), (QUESTION.upper(), "en-US")]) == 1
    assert prompts_protect(prompts=[(f"  {QUESTION}", "en-US")]) == 0
    assert ProtectedPrompt.objects.count() == 1
    assert selectors.prompt_is_protected(prompt=[{"role": "user", "content": QUESTION}], locale="en-US")
    assert not selectors.prompt_is_protected(prompt=QUESTION, locale="ja-JP")


# --- the exporter ----------------------------------------------------------------------------------------------


def test_a_protected_prompt_never_reaches_a_train_split_in_another_campaign(en, ja):
    origin = CampaignFactory(slug="origin", locales=[en])
    PromptFactory(campaign=origin, text=QUESTION, locale=en)
    campaign_prompts_protect(campaign=origin)

    later = CampaignFactory(slug="later-round", overlap=1, locales=[en, ja])
    same = judged_pair(later, text=QUESTION, locale=en)
    spaced = judged_pair(later, text="  what IS the capital   of france? ", locale=en)
    chat = judged_pair(later, messages=[{"role": "user", "content": QUESTION}], locale=en)
    other_locale = judged_pair(later, text=QUESTION, locale=ja)
    unrelated = judged_pair(later, text="Name a river in Spain.", locale=en)

    snapshot = export([later], test_share=0.0)  # the hash alone would put every pair in train

    assert pair_ids(snapshot, "train.jsonl") == {other_locale.id, unrelated.id}
    assert pair_ids(snapshot, "test.jsonl") == {same.id, spaced.id, chat.id}
    assert snapshot.manifest["counts"]["protected_to_test"] == 3


def test_a_protected_tie_is_left_out_because_ties_are_trained_on(en):
    campaign = CampaignFactory(overlap=1, locales=[en])
    tie = judged_pair(campaign, text=QUESTION, locale=en, outcomes=("tie",))
    open_tie = judged_pair(campaign, text="Another question", locale=en, outcomes=("tie",))
    prompts_protect(prompts=[(QUESTION, "en-US")])

    snapshot = export([campaign])

    assert pair_ids(snapshot, "ties.jsonl") == {open_tie.id}
    assert {r["pair_id"]: r["reason"] for r in rows(snapshot, "excluded.jsonl")} == {tie.id: "protected"}
    assert snapshot.manifest["counts"]["per_reason"]["protected"] == 1


def test_evaluation_judgments_stay_out_by_default_and_come_in_on_request_except_protected(en):
    evaluation = CampaignFactory(slug="eval", overlap=1, locales=[en], purpose=Campaign.Purpose.EVALUATION)
    protected = judged_pair(evaluation, text=QUESTION, locale=en)
    open_pair = judged_pair(evaluation, text="Not protected", locale=en)
    prompts_protect(prompts=[(QUESTION, "en-US")], campaign=evaluation)

    default = export([evaluation], test_share=0.0)
    assert pair_ids(default, "train.jsonl") == pair_ids(default, "test.jsonl") == set()
    assert default.manifest["counts"]["per_reason"]["evaluation"] == 2
    assert default.manifest["policy"]["include_evaluation"] is False

    included = export([evaluation], test_share=0.0, include_evaluation=True)
    assert pair_ids(included, "train.jsonl") == {open_pair.id}
    assert pair_ids(included, "test.jsonl") == {protected.id}
    assert included.manifest["policy"]["include_evaluation"] is True


def test_the_preview_counts_what_the_export_would_move(en):
    campaign = CampaignFactory(overlap=1, locales=[en])
    judged_pair(campaign, text=QUESTION, locale=en)
    prompts_protect(prompts=[(QUESTION, "en-US")])
    counts = export_preview(campaigns=[campaign], policy=ExportPolicy(test_share=0.0))
    assert counts["per_split"] == {"train": 0, "test": 1, "ties": 0} and counts["protected_to_test"] == 1


# --- the knob ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "value"), [("on", True), ("true", True), ("false", False), ("", False)])
def test_include_evaluation_reads_form_and_flag_text(typed, value):
    assert ExportPolicy.from_dict({"include_evaluation": typed}).include_evaluation is value


@pytest.mark.parametrize("bad", ["maybe", 1, None])
def test_include_evaluation_refuses_anything_but_yes_or_no(bad):
    with pytest.raises(PolicyError, match="include_evaluation"):
        ExportPolicy.from_dict({"include_evaluation": bad})


def test_the_export_api_takes_include_evaluation(api_for, lena, en):
    evaluation = CampaignFactory(slug="eval", overlap=1, locales=[en], purpose=Campaign.Purpose.EVALUATION)
    judged_pair(evaluation, text="Open question", locale=en)
    body = {"campaigns": ["eval"], "policy": {"include_evaluation": True, "test_share": 0.0}}
    response = api_for(lena).post("/api/v1/snapshots", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["counts"]["per_split"]["train"] == 1
    refused = api_for(lena).post(
        "/api/v1/snapshots", {"campaigns": ["eval"], "policy": {"include_evaluation": "x"}}, format="json"
    )
    assert refused.status_code == 400 and "policy.include_evaluation" in refused.json()


def test_the_export_form_has_the_include_evaluation_box(client_for, lena, en):
    evaluation = CampaignFactory(slug="eval", overlap=1, locales=[en], purpose=Campaign.Purpose.EVALUATION)
    judged_pair(evaluation, text="Open question", locale=en)
    form = {"campaigns": [evaluation.id], "min_agreement": "0.6", "weighting": "majority", "weight": "agreement"}
    form |= {"test_share": "0", "seed": "0"}
    page = client_for(lena).get(reverse("export_new"))
    assert b'name="include_evaluation"' in page.content
    left_out = client_for(lena).post(reverse("export_preview"), form)
    assert b'id="count-evaluation">1<' in left_out.content
    kept = client_for(lena).post(reverse("export_preview"), {**form, "include_evaluation": "on"})
    assert b'id="count-train">1<' in kept.content


# --- marking a campaign's prompts protected ---------------------------------------------------------------------


def test_a_lead_protects_named_prompts_over_the_api(api_for, lena, en):
    campaign = CampaignFactory(slug="held-out", locales=[en])
    PromptFactory(campaign=campaign, external_id="q1", text=QUESTION, locale=en)
    PromptFactory(campaign=campaign, external_id="q2", text="Something else", locale=en)
    response = api_for(lena).post("/api/v1/campaigns/held-out/protect", {"prompts": ["q1"]}, format="json")
    assert response.status_code == 200 and response.json() == {"campaign": "held-out", "newly_protected": 1}
    assert selectors.prompt_is_protected(prompt=QUESTION, locale="en-US")
    assert not selectors.prompt_is_protected(prompt="Something else", locale="en-US")
    record = ProtectedPrompt.objects.get()
    assert record.campaign == campaign and record.created_by == lena

    again = api_for(lena).post("/api/v1/campaigns/held-out/protect", {}, format="json")
    assert again.json()["newly_protected"] == 1  # q2; q1 was already protected


def test_protecting_an_unknown_prompt_id_is_refused_with_its_name(api_for, lena, en):
    CampaignFactory(slug="held-out", locales=[en])
    response = api_for(lena).post("/api/v1/campaigns/held-out/protect", {"prompts": ["nope"]}, format="json")
    assert response.status_code == 400 and "'nope'" in response.json()["prompts"][0]
    assert api_for(lena).post("/api/v1/campaigns/missing/protect", {}, format="json").status_code == 404


def test_a_reviewer_cannot_protect(api_for, alice, en):
    CampaignFactory(slug="held-out", locales=[en])
    assert api_for(alice).post("/api/v1/campaigns/held-out/protect", {}, format="json").status_code == 403


def test_the_campaign_page_button_protects_every_prompt(client_for, lena, en):
    campaign = CampaignFactory(slug="held-out", locales=[en])
    PromptFactory(campaign=campaign, text=QUESTION, locale=en)
    page = client_for(lena).get(reverse("quality_campaign", args=["held-out"]))
    assert b"Protect these prompts" in page.content
    response = client_for(lena).post(reverse("campaign_protect", args=["held-out"]))
    assert response.status_code == 302 and response.url == reverse("quality_campaign", args=["held-out"])
    assert selectors.prompt_is_protected(prompt=QUESTION, locale="en-US")


def test_the_export_command_takes_include_evaluation(en):
    from io import StringIO

    from django.core.management import call_command

    evaluation = CampaignFactory(slug="eval", overlap=1, locales=[en], purpose=Campaign.Purpose.EVALUATION)
    judged_pair(evaluation, text="Open question", locale=en)
    out = StringIO()
    call_command("export_snapshot", "--campaign", "eval", "--test-share", "0", stdout=out)
    assert "excluded, evaluation: 1" in out.getvalue()
    out = StringIO()
    call_command("export_snapshot", "--campaign", "eval", "--test-share", "0", "--include-evaluation", stdout=out)
    assert "1 train" in out.getvalue()
