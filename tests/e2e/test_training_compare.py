"""Comparing runs in a browser: tick three runs on the runs list, read their overlaid curves and what differs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from annotate.models import DatasetSnapshot
from tests.factories import TrainingRunFactory
from training.models import RunMetric, TrainingRun


@pytest.fixture
def three_runs(db, tmp_path):
    snapshot = DatasetSnapshot.objects.create(version=1, path=str(tmp_path), manifest={}, manifest_sha256="0" * 64)
    now, runs = timezone.now(), []
    for i, (name, beta, accuracy) in enumerate(
        (("sigmoid-0.1", 0.1, 0.62), ("ipo-0.5", 0.5, 0.71), ("hinge", 0.2, 0.66))
    ):
        run = TrainingRunFactory(
            snapshot=snapshot,
            name=name,
            status=TrainingRun.Status.SUCCEEDED,
            step=20,
            config={"beta": beta, "learning_rate": 5e-4, "loss_type": "ipo" if "ipo" in name else "sigmoid"},
            eval_report={
                "preference_accuracy": accuracy,
                "reference_preference_accuracy": 0.5,
                "kl": {"per_sequence": 0.01 * (i + 1)},
            },
            pairs_per_second=4.0 + i,
            started_at=now - timedelta(minutes=3 + i),
            finished_at=now,
        )
        RunMetric.objects.bulk_create(
            RunMetric(
                run=run,
                step=s,
                metrics={
                    "loss": 0.69 - s * 0.01 * (i + 1),
                    "rewards/margins": s * 0.02 * (i + 1),
                    "rewards/accuracies": min(1.0, 0.5 + s * 0.01 * (i + 2)),
                },
            )
            for s in range(1, 21)
        )
        runs.append(run)
    return runs


def test_a_lead_compares_three_runs_from_the_runs_list(page, live_server, sign_in, screenshot, lena, three_runs):
    sign_in(page, "lena")
    page.goto(f"{live_server.url}/training/?sort=-accuracy")
    page.wait_for_selector("#workers")
    assert page.inner_text("table.runs tbody tr:first-child td:nth-child(2)").endswith("ipo-0.5")  # best first
    for run in three_runs:
        page.check(f"input[name=runs][value='{run.id}']")
    screenshot(page, "training-compare-1-runs-list")
    page.click("#compare-selected")

    page.wait_for_selector("#compare-charts[data-drawn=true]")
    shown = sorted(three_runs, key=lambda run: -run.eval_report["preference_accuracy"])  # in the list's order
    datasets = page.evaluate("Chart.getChart('compare-loss').data.datasets.map((d) => [d.label, d.data.length])")
    assert datasets == [[f"#{run.id} {run.name}", 20] for run in shown]
    headers = page.locator("table.compare thead th a").all_inner_texts()
    assert headers == [f"Run #{run.id}" for run in shown]
    differs = page.locator("table.compare tr.differs th").all_inner_texts()
    assert differs == ["beta", "loss_type"]  # learning_rate is the same everywhere
    assert page.locator("table.compare input, canvas#compare-accuracy").count() == 1
    screenshot(page, "training-compare-2-three-runs")
