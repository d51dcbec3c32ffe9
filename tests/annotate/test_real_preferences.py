"""Real judgments through the imports: PandaLM's 999 pairs and LLMFAO's crowd votes, checked against the figures
their authors published (../shared/data/real-preferences/README.md)."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pytest
from django.urls import reverse

from annotate.models import Comparison, Judgment
from annotate.quality.agreement import cohen_kappa
from annotate.services.importing import import_comparisons
from annotate.services.judgment_imports import import_judgments
from tests.factories import CampaignFactory, LocaleFactory

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "real-preferences"
pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason=f"real preference data not found at {DATA}")

PANDALM_LABELS = {"0": "tie", "1": "a", "2": "b"}  # 1: response1 better, 2: response2 better
GPT_LABELS = {"1": "a", "2": "b", "Tie": "tie", "garbage": "tie"}  # as in the published accuracy
LLMFAO_LABELS = {"left": "a", "right": "b", "tie": "tie"}  # left is model_x


def _answer(value) -> str:
    # A few answers are empty (or JSON true): until import_comparisons takes issue 12's --allow-empty, they come
    # in as the "(empty answer)" reviewers would see. The judgments, which are what these tests check, are as given.
    text = value if isinstance(value, str) else json.dumps(value)
    return text if text.strip() else "(empty answer)"


def _jsonl(rows) -> bytes:
    return "\n".join(json.dumps(row, ensure_ascii=False) for row in rows).encode()


def _import_pandalm() -> dict:
    """PandaLM through the imports: prompts and pairs, then three annotators and GPT-3.5 as a judge; what was stored."""
    items = json.loads((DATA / "pandalm" / "testset-v1.json").read_text())
    gpt = {
        row["idx"]: row["gpt_result"]
        for row in json.loads((DATA / "pandalm" / "gpt-3.5-turbo-testset-v1.json").read_text())
    }
    rows, votes = [], []
    for item in items:
        model_1, model_2 = item["cmp_key"].split("_", 1)
        prompt = item["instruction"] + (f"\n\n{item['input']}" if item["input"].strip() else "")
        rows.append(
            {
                "id": str(item["idx"]),  # no locale: the campaign's only one
                "prompt": prompt,
                "candidates": [
                    {"id": "r1", "text": _answer(item["response1"]), "model": model_1},
                    {"id": "r2", "text": _answer(item["response2"]), "model": model_2},
                ],
                "pairs": [["r1", "r2"]],
            }
        )
        for k in (1, 2, 3):
            outcome = PANDALM_LABELS[str(item[f"annotator{k}"])]
            votes.append(
                {"prompt_id": str(item["idx"]), "a": "r1", "b": "r2", "outcome": outcome, "annotator": f"pandalm-{k}"}
            )
        judge = {"model": "gpt-3.5-turbo"}
        votes.append(
            {
                "prompt_id": str(item["idx"]),
                "a": "r1",
                "b": "r2",
                "outcome": GPT_LABELS[gpt[item["idx"]]],
                "judge": judge,
            }
        )
    campaign = CampaignFactory(slug="pandalm", overlap=3, locales=[LocaleFactory(code="en-US")])
    pairs = import_comparisons(campaign_slug="pandalm", data=_jsonl(rows))
    result = import_judgments(campaign_slug="pandalm", lines=io.BytesIO(_jsonl(votes)))
    stored = list(
        Judgment.objects.filter(comparison__campaign=campaign).values_list(
            "comparison_id", "source", "reviewer__username", "outcome"
        )
    )
    taken = set(Comparison.objects.filter(campaign=campaign).values_list("taken", flat=True))
    again = import_judgments(campaign_slug="pandalm", lines=io.BytesIO(_jsonl(votes)))
    return {"pairs": pairs, "result": result, "stored": stored, "taken": taken, "again": again}


def _kappas(stored) -> list[float]:
    """Cohen's kappa between annotators 1-2, 1-3, 2-3 on every pair, from the stored judgments."""
    by_rater: dict[str, dict[int, str]] = defaultdict(dict)
    for comparison_id, source, username, outcome in stored:
        if source == "imported":
            by_rater[username][comparison_id] = outcome
    items = sorted(by_rater["annotator:pandalm-1"])
    labels = {k: np.array([by_rater[f"annotator:pandalm-{k}"][i] for i in items]) for k in (1, 2, 3)}
    return [round(cohen_kappa(labels[x], labels[y]), 4) for x, y in ((1, 2), (1, 3), (2, 3))]


def _judge_accuracy(stored) -> tuple[Counter, float]:
    """The human majority's label counts, and the AI judge's accuracy against it."""
    humans: dict[int, Counter] = defaultdict(Counter)
    judge: dict[int, str] = {}
    for comparison_id, source, _, outcome in stored:
        if source == "ai":
            judge[comparison_id] = outcome
        else:
            humans[comparison_id][outcome] += 1
    majority = {pair: votes.most_common(1)[0][0] for pair, votes in humans.items()}
    accuracy = float(np.mean([judge[pair] == label for pair, label in majority.items()]))
    return Counter(majority.values()), round(accuracy, 4)


@pytest.mark.django_db
def test_pandalm_through_the_imports_reproduces_the_published_figures(api_for, lena):
    pandalm = _import_pandalm()
    assert pandalm["pairs"].comparisons_created == 999
    assert pandalm["result"].by_source == {"imported": 2997, "ai": 999}
    assert pandalm["taken"] == {3}  # three human slots per pair; the judge holds none
    assert (pandalm["again"].judgments_created, pandalm["again"].already_present) == (0, 3996)
    assert _kappas(pandalm["stored"]) == [0.8520, 0.8789, 0.8617]
    majority, accuracy = _judge_accuracy(pandalm["stored"])
    assert majority == {"tie": 105, "a": 422, "b": 472}  # the published majority counts
    assert accuracy == 0.7107  # GPT-3.5, "Tie" and "garbage" as tie
    # The same kappas from the quality API (the dashboard's numbers), which leaves the judge out by default.
    report = api_for(lena).get(reverse("api_campaign_quality", args=["pandalm"])).json()
    assert (report["judgments"], report["reviewers"]) == (2997, 3)
    kappas = {(pair["name_a"], pair["name_b"]): round(pair["kappa"], 4) for pair in report["kappas"]}
    assert kappas == {
        ("annotator:pandalm-1", "annotator:pandalm-2"): 0.8520,
        ("annotator:pandalm-1", "annotator:pandalm-3"): 0.8789,
        ("annotator:pandalm-2", "annotator:pandalm-3"): 0.8617,
    }
    (judge,) = report["judges"]  # GPT-3.5 against the human majority, as the dashboard reports it
    assert (judge["name"], judge["pairs"], round(judge["accuracy"], 4)) == ("judge:gpt-3.5-turbo", 999, 0.7107)


@pytest.mark.django_db
def test_llmfao_crowd_votes_import_whole():
    pairs = [json.loads(line) for line in (DATA / "llmfao" / "pairs-crowd.jsonl").read_text().splitlines()]
    by_prompt: dict[int, dict] = {}
    for pair in pairs:
        row = by_prompt.setdefault(
            pair["prompt"], {"id": str(pair["prompt"]), "prompt": pair["text"], "answers": {}, "pairs": []}
        )
        row["answers"][pair["model_x"]] = _answer(pair["result_x"])
        row["answers"][pair["model_y"]] = _answer(pair["result_y"])
        row["pairs"].append([f"m{pair['model_x']}", f"m{pair['model_y']}"])
    rows = [
        {
            "id": row["id"],
            "locale": "en",
            "prompt": row["prompt"],
            "candidates": [
                {"id": f"m{model}", "text": text, "model": str(model)} for model, text in row["answers"].items()
            ],
            "pairs": row["pairs"],
        }
        for row in by_prompt.values()
    ]
    CampaignFactory(slug="llmfao", overlap=5, locales=[LocaleFactory(code="en-US")])
    summary = import_comparisons(campaign_slug="llmfao", data=_jsonl(rows))
    assert summary.locales_added == ["en"]  # a well-formed tag not known before
    with (DATA / "llmfao" / "crowd-comparisons.csv").open() as handle:
        votes = [
            {
                "prompt_id": vote["prompt"],
                "a": f"m{vote['model_x']}",
                "b": f"m{vote['model_y']}",
                "outcome": LLMFAO_LABELS[vote["winner"]],
                "annotator": f"llmfao-{vote['worker']}",
            }
            for vote in csv.DictReader(handle)
        ]
    result = import_judgments(campaign_slug="llmfao", lines=io.BytesIO(_jsonl(votes)))
    assert (result.lines, result.judgments_created, result.by_source) == (8931, 8931, {"imported": 8931})
    stored = Judgment.objects.filter(comparison__campaign__slug="llmfao")
    assert stored.values("reviewer").distinct().count() == 124
    assert stored.values("comparison").distinct().count() == 2139
    assert Counter(stored.values_list("outcome", flat=True))["tie"] == 3471
