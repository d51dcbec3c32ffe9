"""snapshot_create against the database: every exclusion reason, the split, TRL's format, byte-identical re-exports."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from annotate import selectors
from annotate.export_policy import ExportPolicy
from annotate.models import DatasetSnapshot, EscalationResolution
from annotate.services.exporting import DATA_FILES, ExportError, export_preview, snapshot_create
from tests.factories import (
    CampaignFactory,
    CandidateFactory,
    ComparisonFactory,
    EscalationResolutionFactory,
    JudgmentFactory,
    LocaleFactory,
    PromptFactory,
    ReviewerFlagFactory,
    UserFactory,
)


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # factories make many users
    return settings.DATA_DIR


@pytest.fixture
def campaign(db):
    return CampaignFactory(slug="helpful", overlap=3)


def judged(campaign, *outcomes, prompt=None, reviewers=None, **comparison):
    comparison = ComparisonFactory(prompt=prompt or PromptFactory(campaign=campaign), **comparison)
    for i, outcome in enumerate(outcomes):
        extra = {"reviewer": reviewers[i]} if reviewers else {}
        JudgmentFactory(comparison=comparison, outcome=outcome, **extra)
    return comparison


def rows(snapshot: DatasetSnapshot, name: str) -> list[dict]:
    return [json.loads(line) for line in selectors.snapshot_file_path(snapshot=snapshot, name=name).open()]


def export(campaigns, lena=None, **policy) -> DatasetSnapshot:
    return snapshot_create(campaigns=campaigns, policy=ExportPolicy(**policy), created_by=lena)


def reasons(snapshot) -> dict[int, str]:
    return {row["pair_id"]: row["reason"] for row in rows(snapshot, "excluded.jsonl")}


def test_every_exclusion_reason_lands_in_excluded_with_its_pair(campaign, lena):
    kept = judged(campaign, "a", "a", "b")
    gold = judged(campaign, "a", "a", "a", gold_outcome="a")
    few = judged(campaign, "a", "a")
    low = judged(campaign, "a", "a", "b", "tie", "both_bad")
    split = judged(campaign, "a", "a", "b", "b")
    both_bad = judged(campaign, "both_bad", "both_bad", "a")
    escalated = judged(campaign, "a", "a", "escalate")
    flagged_reviewer = UserFactory(role="reviewer")
    ReviewerFlagFactory(reviewer=flagged_reviewer)
    flagged = judged(campaign, "a", "a", "a", reviewers=[UserFactory(), UserFactory(), flagged_reviewer])
    duplicate = ComparisonFactory(
        prompt=PromptFactory(campaign=campaign, text=kept.prompt.text),
        candidate_a=CandidateFactory(text=kept.candidate_b.text),
        candidate_b=CandidateFactory(text=kept.candidate_a.text),
    )
    for outcome in ("a", "a", "a"):
        JudgmentFactory(comparison=duplicate, outcome=outcome)

    snapshot = export([campaign], lena)

    assert reasons(snapshot) == {
        gold.id: "gold",
        few.id: "too_few_judgments",
        low.id: "low_agreement",
        split.id: "split_tie_vote",
        both_bad.id: "both_bad",
        escalated.id: "escalated",
        flagged.id: "flagged_reviewer",
        duplicate.id: "duplicate",
    }
    exported = rows(snapshot, "train.jsonl") + rows(snapshot, "test.jsonl")
    assert [row["meta"]["pair_id"] for row in exported] == [kept.id]
    counts = snapshot.manifest["counts"]
    assert counts["per_reason"]["duplicate"] == 1 and counts["excluded"] == 8 and counts["exported"] == 1


def test_a_lead_resolution_replaces_the_escalation_vote(campaign, lena):
    resolved = judged(campaign, "b", "b")
    EscalationResolutionFactory(judgment__comparison=resolved, decision=EscalationResolution.Decision.B)
    discarded = judged(campaign, "a", "a", "a")
    EscalationResolutionFactory(judgment__comparison=discarded, decision=EscalationResolution.Decision.DISCARD)

    snapshot = export([campaign], lena, test_share=0.0)

    assert reasons(snapshot) == {discarded.id: "escalated"}
    (row,) = rows(snapshot, "train.jsonl")
    assert row["meta"]["pair_id"] == resolved.id and row["meta"]["judgments"] == 3
    assert row["chosen"] == resolved.candidate_b.text and row["rejected"] == resolved.candidate_a.text


def test_a_flag_for_another_campaign_or_lifted_does_not_drop_judgments(campaign, lena):
    reviewer = UserFactory(role="reviewer")
    ReviewerFlagFactory(reviewer=reviewer, campaign=CampaignFactory())
    ReviewerFlagFactory(reviewer=reviewer, active=False)
    pair = judged(campaign, "a", "a", "a", reviewers=[reviewer, UserFactory(), UserFactory()])
    assert reasons(export([campaign], lena)) == {}
    ReviewerFlagFactory(reviewer=reviewer, campaign=campaign)
    assert reasons(export([campaign], lena)) == {pair.id: "flagged_reviewer"}


def test_min_judgments_defaults_to_each_campaigns_overlap(lena, db):
    pairs_of_two = CampaignFactory(slug="two", overlap=2)
    pairs_of_four = CampaignFactory(slug="four", overlap=4)
    small = judged(pairs_of_two, "a", "a")
    large = judged(pairs_of_four, "a", "a", "a")
    assert reasons(export([pairs_of_two, pairs_of_four], lena)) == {large.id: "too_few_judgments"}
    assert reasons(export([pairs_of_two, pairs_of_four], lena, min_judgments=3)) == {small.id: "too_few_judgments"}


def test_ties_go_to_their_own_file_marked_as_ties(campaign, lena):
    tie = judged(campaign, "tie", "tie", "a")
    snapshot = export([campaign], lena)
    (row,) = rows(snapshot, "ties.jsonl")
    assert row["tie"] is True and row["meta"]["pair_id"] == tie.id and row["meta"]["outcome"] == "tie"
    assert snapshot.manifest["counts"]["per_split"] == {"train": 0, "test": 0, "ties": 1}


def test_rows_are_trl_standard_with_meta(campaign, lena):
    pair = judged(campaign, "b", "b", "a", prompt=PromptFactory(campaign=campaign, tags={"scenario": "math"}))
    (row,) = rows(export([campaign], lena, test_share=0.0), "train.jsonl")
    assert row["prompt"] == pair.prompt.text
    assert (row["chosen"], row["rejected"]) == (pair.candidate_b.text, pair.candidate_a.text)
    meta = row["meta"]
    assert meta["weight"] == pytest.approx(2 / 3) and meta["agreement"] == pytest.approx(2 / 3)
    assert meta["strength"] == "clear" and meta["judgments"] == 3 and meta["locale"] == "en-US"
    assert meta["tags"] == {"scenario": "math"} and meta["split"] == "train"
    assert meta["judgment_ids"] == sorted(pair.judgments.values_list("id", flat=True))
    assert meta["chosen_model"] == {"name": "borealis", "version": "v1"}
    assert meta["rejected_model"] == {"name": "atlas", "version": "v1"}


def test_conversation_prompts_are_written_in_trl_conversational_form(campaign, lena):
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi?"}]
    pair = judged(campaign, "a", "a", "a", prompt=PromptFactory(campaign=campaign, text="", messages=messages))
    (row,) = rows(export([campaign], lena, test_share=0.0), "train.jsonl")
    assert row["prompt"] == messages
    assert row["chosen"] == [{"role": "assistant", "content": pair.candidate_a.text}]
    assert row["rejected"] == [{"role": "assistant", "content": pair.candidate_b.text}]


def test_no_prompt_is_on_both_sides_of_the_split_and_every_locale_is_split(lena, db):
    locales = [LocaleFactory(code="en-US"), LocaleFactory(code="ja-JP")]
    campaign = CampaignFactory(locales=locales, overlap=1)
    reviewer = UserFactory(role="reviewer")
    for locale in locales:
        for _ in range(40):
            prompt = PromptFactory(campaign=campaign, locale=locale)
            judged(campaign, "a", prompt=prompt, reviewers=[reviewer])
            judged(campaign, "b", prompt=prompt, reviewers=[reviewer])
    snapshot = export([campaign], lena, test_share=0.3, seed=7)
    train, test = rows(snapshot, "train.jsonl"), rows(snapshot, "test.jsonl")
    assert {r["prompt"] for r in train}.isdisjoint({r["prompt"] for r in test})
    assert len(train) + len(test) == 160
    per_locale = snapshot.manifest["counts"]["per_locale"]
    assert all(per_locale[code]["test"] > 0 and per_locale[code]["train"] > 0 for code in ("en-US", "ja-JP"))
    reseeded = export([campaign], lena, test_share=0.3, seed=8)
    assert {r["meta"]["pair_id"] for r in rows(reseeded, "test.jsonl")} != {r["meta"]["pair_id"] for r in test}


def test_the_same_policy_and_judgments_give_byte_identical_files(campaign, lena, tmp_path):
    for outcomes in (("a", "a", "b"), ("tie", "tie", "tie"), ("b", "b", "b"), ("a", "b")):
        for _ in range(3):
            judged(campaign, *outcomes)
    first = export([campaign], lena, test_share=0.5)
    second = snapshot_create(campaigns=[campaign], policy=ExportPolicy(test_share=0.5), created_by=None)
    assert (first.version, second.version) == (1, 2)
    for name in DATA_FILES:
        assert (Path(first.path) / name).read_bytes() == (Path(second.path) / name).read_bytes()

    def stable(manifest: dict) -> dict:
        return {k: v for k, v in manifest.items() if k not in ("version", "created_at", "created_by")}

    assert stable(first.manifest) == stable(second.manifest)
    assert first.manifest["files"]["train.jsonl"]["rows"] + first.manifest["files"]["test.jsonl"]["rows"] == 6


def test_snapshots_are_never_rewritten(campaign, lena, data_dir):
    judged(campaign, "a", "a", "a")
    first = export([campaign], lena)
    before = {name: (Path(first.path) / name).read_bytes() for name in DATA_FILES}
    judged(campaign, "b", "b", "b")
    second = export([campaign], lena)
    assert Path(first.path) == data_dir / "snapshots" / "v1" and Path(second.path) == data_dir / "snapshots" / "v2"
    assert before == {name: (Path(first.path) / name).read_bytes() for name in DATA_FILES}
    assert stat.S_IMODE((Path(first.path) / "train.jsonl").stat().st_mode) == 0o444


def test_manifest_records_policy_campaigns_hashes_and_author(campaign, lena):
    import hashlib

    judged(campaign, "a", "a", "a")
    snapshot = export([campaign], lena, min_agreement=0.75)
    manifest = json.loads(selectors.snapshot_file_path(snapshot=snapshot, name="manifest.json").read_text())
    assert manifest == snapshot.manifest
    assert manifest["policy"]["min_agreement"] == 0.75
    assert manifest["campaigns"] == [
        {
            "slug": "helpful",
            "name": campaign.name,
            "rubric": {"slug": campaign.rubric.slug, "version": 1},
            "min_judgments": 3,
        }
    ]
    assert manifest["created_by"] == "lena" and manifest["code_version"]
    for name in DATA_FILES:
        data = (Path(snapshot.path) / name).read_bytes()
        assert manifest["files"][name]["sha256"] == hashlib.sha256(data).hexdigest()
    raw = (Path(snapshot.path) / "manifest.json").read_bytes()
    assert snapshot.manifest_sha256 == hashlib.sha256(raw).hexdigest()
    assert selectors.snapshot_mean_agreement(snapshot=snapshot) == 1.0
    assert list(snapshot.campaigns.all()) == [campaign]


def test_out_dir_gets_a_copy_and_an_occupied_one_is_refused(campaign, lena, tmp_path):
    judged(campaign, "a", "a", "a")
    out = tmp_path / "out"
    snapshot = snapshot_create(campaigns=[campaign], policy=ExportPolicy(), created_by=lena, out_dir=out)
    assert (out / "train.jsonl").read_bytes() == (Path(snapshot.path) / "train.jsonl").read_bytes()
    with pytest.raises(ExportError, match="already holds"):
        snapshot_create(campaigns=[campaign], policy=ExportPolicy(), created_by=lena, out_dir=out)
    assert DatasetSnapshot.objects.count() == 1


def test_reliability_weighting_follows_gold_accuracy(campaign, lena):
    expert, careless_1, careless_2 = (UserFactory(role="reviewer") for _ in range(3))
    for reviewer, outcome in ((expert, "a"), (careless_1, "b"), (careless_2, "b")):
        judged(campaign, outcome, reviewers=[reviewer], gold_outcome="a")
    pair = judged(campaign, "a", "b", "b", reviewers=[expert, careless_1, careless_2])
    plain = rows(export([campaign], lena, test_share=0.0), "train.jsonl")
    weighted_snapshot = export([campaign], lena, test_share=0.0, weighting="reliability")
    weighted = rows(weighted_snapshot, "train.jsonl")
    assert plain[0]["chosen"] == pair.candidate_b.text
    assert weighted[0]["chosen"] == pair.candidate_a.text
    reliability = weighted_snapshot.manifest["reliability"]
    assert reliability == {str(expert.id): 1.0, str(careless_1.id): 0.0, str(careless_2.id): 0.0}


def test_preview_counts_without_writing(campaign, data_dir):
    judged(campaign, "a", "a", "a")
    judged(campaign, "a")
    counts = export_preview(campaigns=[campaign], policy=ExportPolicy())
    assert counts["exported"] == 1 and counts["per_reason"]["too_few_judgments"] == 1
    assert DatasetSnapshot.objects.count() == 0


def test_snapshot_file_path_refuses_names_outside_the_snapshot(campaign, lena):
    judged(campaign, "a", "a", "a")
    snapshot = export([campaign], lena)
    for name in ("../manifest.json", "secrets.txt", "/etc/passwd"):
        with pytest.raises(FileNotFoundError):
            selectors.snapshot_file_path(snapshot=snapshot, name=name)


def test_other_campaigns_pairs_are_left_out(campaign, lena):
    other = judged(CampaignFactory(slug="other"), "a", "a", "a")
    mine = judged(campaign, "a", "a", "a")
    snapshot = export([campaign], lena, test_share=0.0)
    assert [r["meta"]["pair_id"] for r in rows(snapshot, "train.jsonl")] == [mine.id]
    assert other.id not in reasons(snapshot)


@pytest.mark.django_db(transaction=True)
def test_export_outside_a_transaction_reads_in_one_of_its_own(data_dir):
    # On PostgreSQL this takes the repeatable-read path that commands, the API and pages use.
    campaign = CampaignFactory(slug="committed", overlap=1)
    judged(campaign, "a")
    snapshot = snapshot_create(campaigns=[campaign], policy=ExportPolicy(test_share=0.0), created_by=None)
    assert snapshot.manifest["counts"]["per_split"]["train"] == 1
