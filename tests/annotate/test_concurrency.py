"""Many reviewers pulling and submitting at once (PostgreSQL row locks, SQLite immediate transactions): no pair over
its overlap, no pair twice, none lost; and an export's long read never keeps a reviewer from writing."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connections

from annotate.export_policy import ExportPolicy
from annotate.models import Assignment, Comparison, Judgment
from annotate.services.assignment import assign_next_pair
from annotate.services.exporting import snapshot_create
from annotate.services.judging import submit_judgment
from tests.annotate.review_helpers import campaign_with_pairs
from tests.factories import LocaleFactory, QualificationFactory, UserFactory

REVIEWERS = 8
THREADS_PER_REVIEWER = 2
PAIRS = 24
OVERLAP = 3


@pytest.mark.django_db(transaction=True)
def test_concurrent_reviewers_never_overfill_repeat_or_lose_a_pair():
    campaign, pairs = campaign_with_pairs(PAIRS, overlap=OVERLAP, gold=2, gold_rate=0.2)
    locale = LocaleFactory(code="en-US")
    reviewers = [UserFactory(username=f"load{i}", role="reviewer") for i in range(REVIEWERS)]
    for reviewer in reviewers:
        QualificationFactory(reviewer=reviewer, locale=locale)

    stored: list[int] = []
    failures: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(REVIEWERS * THREADS_PER_REVIEWER)

    def work(reviewer) -> None:
        try:
            start.wait()
            while (assignment := assign_next_pair(reviewer=reviewer, campaign=campaign)) is not None:
                judgment, created = submit_judgment(
                    assignment=assignment, choice="tie", strength="", ratings={}, critique="", time_taken_ms=1
                )
                if created:
                    with lock:
                        stored.append(judgment.pk)
        except BaseException as exc:  # surfaced in the main thread below
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=work, args=(reviewer,)) for reviewer in reviewers for _ in range(THREADS_PER_REVIEWER)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    assert not any(thread.is_alive() for thread in threads)

    judgments = list(Judgment.objects.values_list("pk", "comparison_id", "reviewer_id"))
    assert sorted(stored) == sorted(pk for pk, _, _ in judgments), "a submitted judgment went missing"
    per_pair_reviewer = Counter((comparison, reviewer) for _, comparison, reviewer in judgments)
    assert max(per_pair_reviewer.values()) == 1, "a reviewer judged a pair twice"
    per_pair = Counter(comparison for _, comparison, _ in judgments)
    for comparison in Comparison.objects.filter(gold_outcome=""):
        assert per_pair[comparison.pk] == OVERLAP, f"pair {comparison.pk} has {per_pair[comparison.pk]} judgments"
        assert comparison.taken == OVERLAP
    assert not Assignment.objects.filter(state=Assignment.State.LEASED).exists()


@pytest.mark.django_db(transaction=True)
def test_a_reviewer_judges_while_an_export_is_reading(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    campaign, _ = campaign_with_pairs(4, overlap=2)
    reviewer = UserFactory(username="during-export", role="reviewer")
    QualificationFactory(reviewer=reviewer, locale=campaign.locales.get())
    stored: list[int] = []
    failures: list[BaseException] = []

    def judge() -> None:
        try:
            assignment = assign_next_pair(reviewer=reviewer, campaign=campaign)
            judgment, _ = submit_judgment(
                assignment=assignment, choice="left", strength="clear", ratings={}, critique="", time_taken_ms=1
            )
            stored.append(judgment.pk)
        except BaseException as exc:  # surfaced in the main thread below
            failures.append(exc)
        finally:
            connections.close_all()

    def mid_export(pairs_done: int) -> None:
        if pairs_done == 2:  # the export's read transaction is open: the reviewer's write must not wait for it
            writer = threading.Thread(target=judge)
            writer.start()
            writer.join(timeout=60)

    snapshot = snapshot_create(campaigns=[campaign], policy=ExportPolicy(), created_by=None, progress=mid_export)
    assert failures == []
    assert len(stored) == 1 and Judgment.objects.filter(pk=stored[0]).exists()
    # The export kept the view it started with: no judgment at all.
    assert snapshot.manifest["counts"]["per_reason"]["too_few_judgments"] == 4
