"""AlpacaEval through the app: import the 805 prompts and GPT-4's annotations, read the leaderboard's win rate.

The published figure (41.2422% for alpaca-farm-ppo-human over text_davinci_003) counts the 8 identical answers as
ties: the importer makes no pair of them, the judgment import creates one for each (the annotations judge them), and
the leaderboard counts each once, as the tie it is by construction.
"""

from __future__ import annotations

import json

import pytest
from django.db.models import F

from annotate.models import Judgment
from annotate.services.importing import import_comparisons
from annotate.services.judgment_imports import import_judgments
from evaluation.leaderboard import leaderboard_get
from evaluation.selectors import campaigns_by_slugs
from tests.evaluation.conftest import _real_file

OUTCOMES = {1: "a", 2: "b", 0: "tie"}


@pytest.fixture
def alpaca_campaign(db):
    annotations = json.loads(
        _real_file("alpaca_eval/alpaca-farm-ppo-human__alpaca_eval_gpt4__annotations.json").read_text()
    )
    prompts = [
        {
            "id": f"p{index}",
            "prompt": row["instruction"],
            "candidates": [
                {"id": "1", "text": row["output_1"], "model": row["generator_1"]},
                {"id": "2", "text": row["output_2"], "model": row["generator_2"]},
            ],
        }
        for index, row in enumerate(annotations)
    ]
    data = "\n".join(json.dumps(prompt) for prompt in prompts).encode()
    import_comparisons(campaign_slug="alpaca", data=data, default_locale="en-US", allow_identical=True)
    judgments = [
        json.dumps(
            {
                "prompt_id": f"p{index}",
                "a": "1",
                "b": "2",
                "outcome": OUTCOMES[int(row["preference"])],
                "judge": {"model": row["annotator"]},
            }
        ).encode()
        for index, row in enumerate(annotations)
    ]
    import_judgments(campaign_slug="alpaca", lines=judgments)
    return campaigns_by_slugs(slugs=["alpaca"])[0][0]


def test_the_leaderboard_reads_the_alpaca_eval_win_rate_with_identical_answers_as_ties(alpaca_campaign):
    judged_identical = Judgment.objects.filter(
        comparison__campaign=alpaca_campaign, comparison__candidate_a__text=F("comparison__candidate_b__text")
    )
    assert judged_identical.count() == 8  # the judgment import made their pairs: they must not count twice

    board = leaderboard_get(campaigns=[alpaca_campaign], source="ai", baseline="text_davinci_003")

    ppo = next(row for row in board.models if row.model == "alpaca-farm-ppo-human")
    assert (ppo.wins, ppo.losses, ppo.ties) == (328, 469, 8)
    assert ppo.win_rate == pytest.approx(0.412422360248447, abs=1e-12)
    assert board.identical_ties == 8 and board.judgments == 805
    assert ppo.win_rate_ci[0] < ppo.win_rate < ppo.win_rate_ci[1]
