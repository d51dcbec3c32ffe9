"""Pair difficulty and length knobs on hand-made pairs: each knob drops exactly the pairs it should, and says so."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotate import selectors
from annotate.export_policy import ExportPolicy
from annotate.margin_selectors import PairMargin, pair_margins, reference_models
from annotate.models import CandidateLogProb, DatasetSnapshot
from annotate.services.exporting import export_preview, snapshot_create
from annotate.services.margin_logps import LogProbResult, candidate_logprobs_store
from tests.factories import CampaignFactory, CandidateFactory, ComparisonFactory, JudgmentFactory, PromptFactory

DIGEST = "ab" * 32
OTHER_DIGEST = "cd" * 32


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return settings.DATA_DIR


@pytest.fixture
def campaign(db):
    return CampaignFactory(slug="helpful", overlap=3)


def pair(campaign, a: str, b: str, *outcomes: str):
    """A pair with answers `a` and `b`, judged with `outcomes` (three votes for A by default)."""
    prompt = PromptFactory(campaign=campaign)
    comparison = ComparisonFactory(
        prompt=prompt,
        candidate_a=CandidateFactory(prompt=prompt, text=a),
        candidate_b=CandidateFactory(prompt=prompt, text=b),
    )
    for outcome in outcomes or ("a", "a", "a"):
        JudgmentFactory(comparison=comparison, outcome=outcome)
    return comparison


def score(comparison, a: tuple[float, int], b: tuple[float, int], digest: str = DIGEST) -> None:
    """Cache the two answers' (summed log-prob, tokens) under the digest's model."""
    results = [
        LogProbResult(comparison.candidate_a_id, *a),
        LogProbResult(comparison.candidate_b_id, *b),
    ]
    candidate_logprobs_store(model_digest=digest, model_name="tiny", results=results)


def export(campaign, **policy) -> DatasetSnapshot:
    return snapshot_create(campaigns=[campaign], policy=ExportPolicy(test_share=0.0, **policy), created_by=None)


def rows(snapshot, name: str) -> list[dict]:
    return [json.loads(line) for line in selectors.snapshot_file_path(snapshot=snapshot, name=name).open()]


def exported_ids(snapshot) -> list[int]:
    return [row["meta"]["pair_id"] for row in rows(snapshot, "train.jsonl")]


def reasons(snapshot) -> dict[int, str]:
    return {row["pair_id"]: row["reason"] for row in rows(snapshot, "excluded.jsonl")}


# --- the cache and the margins --------------------------------------------------------------------------------------


def test_storing_log_probs_is_idempotent_per_candidate_and_digest(campaign):
    comparison = pair(campaign, "yes", "no")
    score(comparison, (-2.0, 2), (-9.0, 3))
    score(comparison, (-5.0, 2), (-1.0, 3))  # a second delivery: the first values stand
    score(comparison, (-1.0, 2), (-1.0, 3), digest=OTHER_DIGEST)
    assert CandidateLogProb.objects.count() == 4
    assert CandidateLogProb.objects.get(candidate=comparison.candidate_a, model_digest=DIGEST).logprob_sum == -2.0
    assert [m["digest"] for m in reference_models()] == sorted([DIGEST, OTHER_DIGEST])


def test_a_margin_is_the_winner_over_the_other_summed_and_per_token(campaign):
    comparison = pair(campaign, "yes", "no")
    score(comparison, (-2.0, 2), (-9.0, 3))
    ids = [(comparison.id, comparison.candidate_a_id, comparison.candidate_b_id)]
    margin = pair_margins(pairs=ids, model_digest=DIGEST)[comparison.id]
    assert margin.sum == pytest.approx(7.0) and margin.per_token == pytest.approx(-1.0 + 3.0)
    assert margin.for_winner("b") == PairMargin(sum=-margin.sum, per_token=-margin.per_token)
    assert pair_margins(pairs=ids, model_digest=OTHER_DIGEST) == {}


# --- too easy -----------------------------------------------------------------------------------------------------


@pytest.fixture
def margin_pairs(campaign):
    """easy: A far likelier per token; hard: the reference barely prefers A; long_loser: same per-token log-prob, but
    B is much longer (a big summed margin that is only length); b_won: B won and the reference prefers A;
    unscored: no cached log-probs."""
    made = {
        "easy": pair(campaign, "fine answer", "bad answer"),
        "hard": pair(campaign, "one answer", "another answer"),
        "long_loser": pair(campaign, "short", "a much longer rejected answer"),
        "b_won": pair(campaign, "first text", "second text", "b", "b", "b"),
        "unscored": pair(campaign, "left text", "right text"),
    }
    score(made["easy"], (-2.0, 2), (-20.0, 4))  # per token +4.0, sum +18
    score(made["hard"], (-4.0, 4), (-4.4, 4))  # per token +0.1, sum +0.4
    score(made["long_loser"], (-4.0, 4), (-30.0, 30))  # per token 0, sum +26
    score(made["b_won"], (-1.0, 2), (-30.0, 3))  # B's margin: per token -9.5, sum -29
    return made


def test_too_easy_pairs_are_dropped_per_token_and_unscored_ones_kept(campaign, margin_pairs):
    snapshot = export(campaign, reference_model_digest=DIGEST, max_margin_nats=1.0)
    ids = {name: c.id for name, c in margin_pairs.items()}
    assert reasons(snapshot) == {ids["easy"]: "too_easy"}
    assert sorted(exported_ids(snapshot)) == sorted(ids[n] for n in ("hard", "long_loser", "b_won", "unscored"))
    difficulty = snapshot.manifest["counts"]["difficulty"]
    assert difficulty["dropped"] == {"near_duplicate": 0, "too_easy": 1, "longer_answer_cap": 0}
    assert difficulty["margins"] == {"reference_model_digest": DIGEST, "unit": "per_token", "scored": 4, "unscored": 1}
    assert snapshot.manifest["counts"]["per_reason"]["too_easy"] == 1
    assert (
        snapshot.manifest["policy"]["max_margin_nats"] == 1.0
        and snapshot.manifest["policy"]["margin_unit"] == "per_token"
    )


def test_summed_margins_also_drop_the_pair_that_is_only_shorter(campaign, margin_pairs):
    snapshot = export(campaign, reference_model_digest=DIGEST, max_margin_nats=1.0, margin_unit="sum")
    ids = {name: c.id for name, c in margin_pairs.items()}
    assert reasons(snapshot) == {ids["easy"]: "too_easy", ids["long_loser"]: "too_easy"}


def test_exported_rows_carry_the_winners_margin(campaign, margin_pairs):
    snapshot = export(campaign, reference_model_digest=DIGEST)
    meta = {row["meta"]["pair_id"]: row["meta"] for row in rows(snapshot, "train.jsonl")}
    assert meta[margin_pairs["b_won"].id]["reference_margin"] == {"sum": -29.0, "per_token": -9.5}
    assert meta[margin_pairs["easy"].id]["reference_margin"] == {"sum": 18.0, "per_token": 4.0}
    assert meta[margin_pairs["unscored"].id]["reference_margin"] is None
    assert snapshot.manifest["counts"]["excluded"] == 0  # no threshold: margins are reported, nothing dropped


def test_margins_of_another_model_are_not_used(campaign, margin_pairs):
    snapshot = export(campaign, reference_model_digest=OTHER_DIGEST, max_margin_nats=1.0)
    assert reasons(snapshot) == {}
    assert snapshot.manifest["counts"]["difficulty"]["margins"]["unscored"] == 5


def test_the_margin_histogram_counts_every_scored_preference(campaign, margin_pairs):
    counts = export_preview(campaigns=[campaign], policy=ExportPolicy(reference_model_digest=DIGEST))
    histogram = counts["difficulty"]["histograms"]["margin"]
    assert sum(histogram["counts"]) == 4
    by_label = dict(zip(histogram["labels"], histogram["counts"], strict=True))
    assert by_label["< -2"] == 1 and by_label["≥ 2"] == 1 and by_label["0 … 0.1"] == 1 and by_label["0.1 … 0.25"] == 1


# --- agreement floor (ambiguous pairs) ----------------------------------------------------------------------------


def test_the_agreement_floor_drops_ambiguous_pairs(campaign):
    clear = pair(campaign, "x", "y", "a", "a", "a")
    ambiguous = pair(campaign, "p", "q", "a", "a", "b")
    snapshot = export(campaign, min_agreement=0.7)
    assert reasons(snapshot) == {ambiguous.id: "low_agreement"} and exported_ids(snapshot) == [clear.id]


# --- longer-answer cap --------------------------------------------------------------------------------------------


@pytest.fixture
def length_pairs(campaign):
    """Ten preferences: eight won by the longer answer, one by the shorter, one of equal lengths."""
    longer = [pair(campaign, f"a long answer number {i}", f"short {i}") for i in range(8)]
    shorter = pair(campaign, "tiny", "a much longer losing answer")
    equal = pair(campaign, "abcd", "wxyz")
    return longer, shorter, equal


def test_the_longer_answer_share_is_reported_before_and_after(campaign, length_pairs):
    snapshot = export(campaign)
    assert snapshot.manifest["counts"]["difficulty"]["longer_answer_share"] == {"before": 0.8, "after": 0.8}
    histogram = snapshot.manifest["counts"]["difficulty"]["histograms"]["length_difference"]
    assert sum(histogram["counts"]) == 10


def test_the_cap_drops_just_enough_longer_winners_the_same_way_each_time(campaign, length_pairs):
    longer, shorter, equal = length_pairs
    snapshot = export(campaign, longer_answer_cap=0.5)
    dropped = reasons(snapshot)
    # (8 − k) / (10 − k) ≤ 0.5 first holds at k = 6.
    assert len(dropped) == 6 and set(dropped.values()) == {"longer_answer_cap"}
    assert set(dropped) <= {c.id for c in longer}
    assert {shorter.id, equal.id} <= set(exported_ids(snapshot))
    difficulty = snapshot.manifest["counts"]["difficulty"]
    assert difficulty["longer_answer_share"] == {"before": 0.8, "after": 0.5}
    assert (
        difficulty["dropped"]["longer_answer_cap"]
        == 6
        == snapshot.manifest["counts"]["per_reason"]["longer_answer_cap"]
    )
    again = export(campaign, longer_answer_cap=0.5)
    assert reasons(again) == dropped
    assert (
        export_preview(campaigns=[campaign], policy=ExportPolicy(test_share=0.0, longer_answer_cap=0.5))["difficulty"][
            "dropped"
        ]["longer_answer_cap"]
        == 6
    )


def test_another_seed_may_drop_other_pairs_but_as_many(campaign, length_pairs):
    chosen = [set(reasons(export(campaign, longer_answer_cap=0.5, seed=seed))) for seed in range(4)]
    assert {len(c) for c in chosen} == {6} and len({frozenset(c) for c in chosen}) > 1


def test_a_cap_already_met_drops_nothing(campaign, length_pairs):
    snapshot = export(campaign, longer_answer_cap=0.8)
    assert reasons(snapshot) == {}


# --- near-duplicates ----------------------------------------------------------------------------------------------


def test_near_duplicates_are_flagged_always_and_dropped_when_asked(campaign):
    same = pair(campaign, "Paris is  the capital.", "paris is the\ncapital.")
    distinct = pair(campaign, "Paris.", "Lyon.")
    kept = export(campaign)
    flags = {row["meta"]["pair_id"]: row["meta"]["near_duplicate"] for row in rows(kept, "train.jsonl")}
    assert flags == {same.id: True, distinct.id: False}
    assert kept.manifest["counts"]["difficulty"]["near_duplicates_flagged"] == 1

    dropped = export(campaign, drop_near_duplicates=True)
    assert reasons(dropped) == {same.id: "near_duplicate"} and exported_ids(dropped) == [distinct.id]
    assert dropped.manifest["counts"]["difficulty"]["dropped"]["near_duplicate"] == 1
    assert dropped.manifest["policy"]["drop_near_duplicates"] is True


# --- the knobs as people set them ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "field", "text"),
    [
        ({"max_margin_nats": 2}, "policy.max_margin_nats", "choose a reference_model_digest"),
        ({"reference_model_digest": DIGEST, "max_margin_nats": -1}, "policy.max_margin_nats", "from 0 to 10000"),
        ({"reference_model_digest": "not hex"}, "policy.reference_model_digest", "hex SHA-256"),
        ({"margin_unit": "bits"}, "policy.margin_unit", "per_token, sum"),
        ({"longer_answer_cap": 1.5}, "policy.longer_answer_cap", "from 0 to 1"),
        ({"drop_near_duplicates": "maybe"}, "policy.drop_near_duplicates", "true or false"),
    ],
)
def test_the_api_names_a_bad_knob(api_for, lena, campaign, policy, field, text):
    response = api_for(lena).post(reverse("api_snapshots"), {"campaigns": ["helpful"], "policy": policy}, format="json")
    assert response.status_code == 400 and text in response.json()[field][0]
    assert not DatasetSnapshot.objects.exists()


def test_the_api_exports_with_the_knobs(api_for, lena, campaign, margin_pairs):
    policy = {"reference_model_digest": DIGEST.upper(), "max_margin_nats": 1, "drop_near_duplicates": True}
    response = api_for(lena).post(reverse("api_snapshots"), {"campaigns": ["helpful"], "policy": policy}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["policy"]["reference_model_digest"] == DIGEST and body["counts"]["per_reason"]["too_easy"] == 1


FORM = {"min_agreement": "0.6", "weighting": "majority", "weight": "agreement", "test_share": "0", "seed": "0"}


@pytest.mark.parametrize(
    ("knobs", "text"),
    [
        ({"max_margin_nats": "2"}, "choose a reference_model_digest"),
        ({"longer_answer_cap": "1.5"}, "less than or equal to 1"),
        ({"max_margin_nats": "nan"}, "Enter a number"),
        ({"reference_model_digest": DIGEST}, "Select a valid choice"),  # no answer scored under it
    ],
)
def test_the_form_and_preview_name_a_bad_knob(client_for, lena, campaign, knobs, text):
    client = client_for(lena)
    form = client.post(reverse("export_new"), {"campaigns": [campaign.id], **FORM, **knobs})
    assert form.status_code == 400 and text in form.content.decode()
    preview = client.post(reverse("export_preview"), {"campaigns": [campaign.id], **FORM, **knobs})
    assert preview.status_code == 400 and text in preview.content.decode()
    assert not DatasetSnapshot.objects.exists()


def test_the_preview_shows_the_knobs_counts_and_histograms(client_for, lena, campaign, margin_pairs):
    knobs = {"reference_model_digest": DIGEST, "max_margin_nats": "1", "longer_answer_cap": "0.5"}
    response = client_for(lena).post(
        reverse("export_preview"), {"campaigns": [campaign.id], **FORM, **knobs}, HTTP_HX_REQUEST="true"
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="count-too_easy">1<' in page and "4 scored, 1 unscored (kept); 1 too easy" in page
    assert "Reference margin of the majority&#x27;s answer (nats, per token)" in page
    assert "Length of chosen − rejected answer (characters)" in page and 'class="hist-bar"' in page


def test_the_form_exports_with_the_knobs_and_the_snapshot_page_shows_them(client_for, lena, campaign, margin_pairs):
    client = client_for(lena)
    knobs = {
        "reference_model_digest": DIGEST,
        "max_margin_nats": "1",
        "margin_unit": "sum",
        "drop_near_duplicates": "on",
    }
    response = client.post(reverse("export_new"), {"campaigns": [campaign.id], **FORM, **knobs})
    snapshot = DatasetSnapshot.objects.get()
    assert response.status_code == 302
    assert snapshot.policy["margin_unit"] == "sum" and snapshot.policy["drop_near_duplicates"] is True
    assert snapshot.manifest["counts"]["per_reason"]["too_easy"] == 2
    page = client.get(reverse("export_detail", args=[snapshot.id])).content.decode()
    assert "Difficulty and length" in page and "2 too easy" in page


def test_the_command_takes_the_knobs_as_flags(campaign, length_pairs):

    out = StringIO()
    call_command(
        "export_snapshot", "--campaign", "helpful", "--longer-answer-cap", "0.5", "--drop-near-duplicates", stdout=out
    )
    snapshot = DatasetSnapshot.objects.get()
    assert snapshot.policy["longer_answer_cap"] == 0.5 and snapshot.policy["drop_near_duplicates"] is True
    assert "excluded, longer answer cap: 6" in out.getvalue() and "won by the longer answer: 50.0%" in out.getvalue()
    with pytest.raises(CommandError, match="max_margin_nats: choose a reference_model_digest"):
        call_command("export_snapshot", "--campaign", "helpful", "--max-margin-nats", "2")


def test_reading_margins_costs_the_same_queries_for_more_pairs(campaign):

    def queries(n: int) -> int:
        for _ in range(n):
            score(pair(campaign, "some answer", "another"), (-1.0, 2), (-3.0, 2))
        policy = ExportPolicy(reference_model_digest=DIGEST, max_margin_nats=5.0, longer_answer_cap=0.9)
        with CaptureQueriesContext(connection) as captured:
            export_preview(campaigns=[campaign], policy=policy)
        return len(captured)

    assert queries(2) == queries(10)


def test_the_form_lists_each_scored_model_by_name_and_digest(client_for, lena, campaign, margin_pairs):
    page = client_for(lena).get(reverse("export_new")).content.decode()
    assert f'<option value="{DIGEST}">tiny · {DIGEST[:12]} (8 answers scored)</option>' in page
