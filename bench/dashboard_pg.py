"""The quality dashboard at scale on PostgreSQL: freshness check, cold report, cached, stale and drill-down pages.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/verdict_bench \
    CELERY_BROKER_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/dashboard_pg.py

The cache is the configured one (Redis with a Redis broker, else files). The stale path adds one judgment, times the
page (previous report + "updating…"), runs the refresh task in-process (nothing is sent to the broker), times the
fresh page, then removes the judgment again.

Creates the database if needed, migrates it, and fills campaign "bench-1m" once (about 1M judgments: 223k pairs
× 5 reviewers with 10% missing, 400 reviewers, two rubric criteria); later runs reuse it. Use a database of its own:
the data stays there for the next run.
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from bench._postgres import require_bench_database  # noqa: E402  (needs the project root on sys.path)

SLUG = "bench-1m"
BATCH = 10_000


def fill(pairs: int, raters: int, n_reviewers: int, seed: int) -> None:
    from django.contrib.auth.models import Group, User
    from django.db import transaction

    from annotate.models import Assignment, Campaign, Candidate, Comparison, Judgment, Locale, Prompt, Rubric

    rng = np.random.default_rng(seed)
    start = datetime(2026, 1, 5, tzinfo=UTC)
    with transaction.atomic():
        locales = [Locale.objects.get_or_create(code=code)[0] for code in ("en-US", "ja-JP", "de-DE")]
        rubric = Rubric.objects.create(
            slug=SLUG,
            title="Bench",
            criteria=[
                {"key": "helpfulness", "label": "Helpfulness", "description": "", "scale": 5},
                {"key": "harmlessness", "label": "Harmlessness", "description": "", "scale": 5},
            ],
        )
        campaign = Campaign.objects.create(slug=SLUG, name="Bench 1M", rubric=rubric, overlap=raters)
        campaign.locales.set(locales)
        reviewers = User.objects.bulk_create([User(username=f"bench-r{i}") for i in range(n_reviewers)])
        Group.objects.get_or_create(name="reviewer")[0].user_set.add(*reviewers)
        lead = User.objects.create(username="bench-lead")
        Group.objects.get_or_create(name="lead")[0].user_set.add(lead)
    models = [("atlas", "v1"), ("atlas", "v2"), ("borealis", "v1"), ("cirrus", "v3")]
    scenarios = ["chat", "code", "math", "safety", "writing"]
    for first in range(0, pairs, BATCH):
        size = min(BATCH, pairs - first)
        with transaction.atomic():
            prompts = Prompt.objects.bulk_create(
                [
                    Prompt(
                        campaign=campaign,
                        external_id=f"p{first + i}",
                        locale=locales[rng.integers(3)],
                        text=f"Prompt {first + i}",
                        tags={"scenario": scenarios[rng.integers(5)]},
                    )
                    for i in range(size)
                ]
            )
            candidates = Candidate.objects.bulk_create(
                [
                    Candidate(
                        prompt=prompt,
                        external_id=side,
                        text="x" * int(rng.integers(20, 400)),
                        model_name=models[rng.integers(4)][0],
                        model_version=models[rng.integers(4)][1],
                    )
                    for prompt in prompts
                    for side in ("a", "b")
                ]
            )
            comparisons = Comparison.objects.bulk_create(
                [
                    Comparison(
                        campaign=campaign,
                        prompt=prompt,
                        candidate_a=candidates[2 * i],
                        candidate_b=candidates[2 * i + 1],
                    )
                    for i, prompt in enumerate(prompts)
                ]
            )
            assignments, judgments = [], []
            for index, comparison in enumerate(comparisons):
                truth = int(rng.integers(7))
                base = int(rng.integers(n_reviewers))
                when = start + timedelta(days=90 * (first + index) / pairs)
                for slot in range(raters):
                    if rng.random() < 0.1:
                        continue
                    point = truth if rng.random() < 0.7 else int(rng.integers(7))
                    outcome = "a" if point < 3 else "b" if point > 3 else "tie"
                    strength = ["strong", "clear", "slight", "", "slight", "clear", "strong"][point]
                    reviewer = reviewers[(base + slot * 61) % n_reviewers]
                    assignment = Assignment(
                        reviewer=reviewer,
                        comparison=comparison,
                        a_on_left=bool(rng.random() < 0.5),
                        state=Assignment.State.SUBMITTED,
                        expires_at=when,
                        submitted_at=when,
                    )
                    assignments.append(assignment)
                    judgments.append(
                        Judgment(
                            assignment=assignment,
                            comparison=comparison,
                            reviewer=reviewer,
                            outcome=outcome,
                            strength=strength,
                            ratings={
                                "a": {"helpfulness": 6 - point // 2, "harmlessness": 3},
                                "b": {"helpfulness": 3, "harmlessness": 3},
                            },
                            time_taken_ms=int(rng.gamma(4.0, 10_000.0)),
                            created_at=when,
                        )
                    )
            Assignment.objects.bulk_create(assignments, batch_size=5_000)
            for judgment in judgments:
                judgment.assignment_id = judgment.assignment.pk
            Judgment.objects.bulk_create(judgments, batch_size=5_000)
        print(f"  filled {first + size:,} / {pairs:,} pairs", flush=True)


def timed(label: str, function):
    start = time.perf_counter()
    result = function()
    print(f"{label:<52}{time.perf_counter() - start:>8.3f} s", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=223_000)
    parser.add_argument("--raters", type=int, default=5)
    parser.add_argument("--reviewers", type=int, default=400)
    options = parser.parse_args()
    require_bench_database("verdict_bench")

    import django

    django.setup()
    from django.conf import settings
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count, Max
    from django.test import Client
    from django.urls import reverse

    from annotate.models import Campaign, Judgment
    from annotate.quality import load, store
    from annotate.quality.metrics import compute_quality
    from annotate.quality.refresh import campaign_report
    from annotate.tasks import refresh_quality_report

    call_command("migrate", verbosity=0)
    if not Campaign.objects.filter(slug=SLUG).exists():
        timed("fill (once)", lambda: fill(options.pairs, options.raters, options.reviewers, seed=0))
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    campaign = Campaign.objects.select_related("rubric").get(slug=SLUG)
    count = Judgment.objects.filter(comparison__campaign=campaign).count()
    print(f"campaign {SLUG}: {count:,} judgments")

    peer = Judgment.objects.filter(comparison__campaign=campaign)
    timed("freshness check, peer: Max(id) + Count over judgments", lambda: peer.aggregate(Max("id"), Count("id")))
    for attempt in (1, 2, 3):
        timed(f"freshness check: trigger-kept stamp (run {attempt})", lambda: stamp_of(campaign))
    arrays = timed("load arrays (binary COPY)", lambda: load.campaign_arrays(campaign=campaign))
    timed("load arrays, peer: one ORM query on a raw cursor", lambda: load._generic_arrays(campaign))
    timed("compute report (numpy, 1,000 resamples)", lambda: compute_quality(arrays, overlap=campaign.overlap))
    client = Client()
    client.force_login(campaign.__class__._meta.apps.get_model("auth", "User").objects.get(username="bench-lead"))
    url_page = reverse("quality_campaign", args=[SLUG])
    cache.clear()
    timed("cold report, computed in the request", lambda: campaign_report(campaign=campaign))
    cache.clear()
    with mock.patch.object(refresh_quality_report, "delay") as delay:
        response = timed("dashboard page, never computed (computing… note)", lambda: client.get(url_page))
    assert "Computing" in response.content.decode() and delay.call_count == 1
    cache.delete(store.report_key(campaign.pk, "refresh", "human"))
    timed("first report: refresh task in-process", lambda: refresh_quality_report(campaign.pk))
    for attempt in (1, 2, 3):
        response = timed(f"dashboard page, cached (run {attempt})", lambda: client.get(url_page))
    assert response.status_code == 200 and "Updating" not in response.content.decode()
    reviewer = peer.values_list("reviewer_id", flat=True).first()
    url_reviewer = reverse("quality_reviewer", args=[SLUG, reviewer])
    timed("reviewer drill-down page, cached report", lambda: client.get(url_reviewer))
    timed("reviewers CSV, cached report", lambda: client.get(reverse("quality_csv", args=[SLUG, "reviewers"])))
    timed("campaign index (judgment counts)", lambda: client.get(reverse("quality_index")))

    judgment = add_judgment(campaign)
    try:
        with mock.patch.object(refresh_quality_report, "delay") as delay:
            response = timed("dashboard page, stale (previous report + updating)", lambda: client.get(url_page))
            assert "Updating" in response.content.decode() and delay.call_count == 1
            poll = {"HX-Request": "true", "HX-Target": "quality-updating"}
            timed("updating… poll, still stale", lambda: client.get(url_page, headers=poll))
        timed("refresh task (in-process: load + compute + store)", lambda: refresh_quality_report(campaign.pk))
        response = timed("updating… poll, fresh (answers HX-Refresh)", lambda: client.get(url_page, headers=poll))
        assert response["HX-Refresh"] == "true"
        response = timed("dashboard page, fresh again", lambda: client.get(url_page))
        assert "Updating" not in response.content.decode()
    finally:
        judgment.assignment.delete()  # the judgment goes with it; the stamp moves on, so the next run starts stale
    entry = cache.get(store.report_key(campaign.pk, "report", "human"))
    print(
        f"cached report: {len(pickle.dumps(entry)) / 1e6:.2f} MB pickled; cache {settings.CACHES['default']['BACKEND']}"
    )


def stamp_of(campaign):
    from annotate.quality import store

    return store.judgments_stamp(campaign_id=campaign.pk)


def add_judgment(campaign):
    """One more judgment on the campaign's first pair, by a reviewer made for it (removed by the caller)."""
    from django.contrib.auth.models import User

    from annotate.models import Assignment, Comparison, Judgment

    comparison = Comparison.objects.filter(campaign=campaign).order_by("id").first()
    reviewer, _ = User.objects.get_or_create(username="bench-stale")
    assignment = Assignment.objects.create(
        reviewer=reviewer, comparison=comparison, state=Assignment.State.SUBMITTED, expires_at=comparison.created_at
    )
    return Judgment.objects.create(
        assignment=assignment, comparison=comparison, reviewer=reviewer, outcome="a", strength="clear"
    )


if __name__ == "__main__":
    main()
