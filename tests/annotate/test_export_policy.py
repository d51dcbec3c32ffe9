"""The validity policy on hand-made votes: majority, ties in the vote, reliability weighting, strength, the split."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from annotate.export_policy import (
    ExportPolicy,
    PolicyError,
    Vote,
    judge_pair,
    median_strength,
    reliability_scores,
    split_of,
)

POLICY = ExportPolicy()


def votes(*outcomes: str, strengths: tuple[str, ...] = ()) -> list[Vote]:
    strengths = strengths or ("clear",) * len(outcomes)
    return [
        Vote(judgment_id=i + 1, reviewer_id=i + 1, outcome=o, strength=s)
        for i, (o, s) in enumerate(zip(outcomes, strengths, strict=True))
    ]


def test_majority_wins_and_weight_is_its_share():
    decision = judge_pair(votes("a", "a", "b"), policy=POLICY, min_judgments=3)
    assert decision.outcome == "a"
    assert decision.agreement == pytest.approx(2 / 3)
    assert decision.weight == pytest.approx(2 / 3)


def test_uniform_weight_mode_gives_one():
    decision = judge_pair(votes("b", "b", "a"), policy=ExportPolicy(weight="uniform"), min_judgments=3)
    assert (decision.outcome, decision.weight) == ("b", 1.0)


def test_a_tie_in_the_vote_is_not_exported():
    decision = judge_pair(votes("a", "b"), policy=POLICY, min_judgments=2)
    assert decision.reason == "split_tie_vote"


def test_majority_tie_is_kept_as_a_tie():
    decision = judge_pair(votes("tie", "tie", "a"), policy=POLICY, min_judgments=3)
    assert decision.outcome == "tie" and decision.exported


def test_agreement_below_the_threshold_is_low_agreement():
    decision = judge_pair(votes("a", "a", "b", "tie", "both_bad"), policy=POLICY, min_judgments=3)
    assert decision.reason == "low_agreement"
    assert judge_pair(votes("a", "a", "b"), policy=ExportPolicy(min_agreement=0.7), min_judgments=3).reason == (
        "low_agreement"
    )


def test_agreement_exactly_at_the_threshold_passes():
    decision = judge_pair(votes("a", "a", "a", "b", "b"), policy=POLICY, min_judgments=3)
    assert decision.outcome == "a" and decision.agreement == pytest.approx(0.6)


def test_majority_both_bad_is_excluded():
    assert judge_pair(votes("both_bad", "both_bad", "a"), policy=POLICY, min_judgments=3).reason == "both_bad"


def test_too_few_judgments_and_flagged_reviewer_are_told_apart():
    assert judge_pair(votes("a", "a"), policy=POLICY, min_judgments=3).reason == "too_few_judgments"
    decision = judge_pair(votes("a", "a"), policy=POLICY, min_judgments=3, flagged_dropped=1)
    assert decision.reason == "flagged_reviewer"
    # Even with the flagged judgment back there would be too few: the honest reason is still "too few".
    assert judge_pair(votes("a"), policy=POLICY, min_judgments=3, flagged_dropped=1).reason == "too_few_judgments"


def test_escalation_wins_over_every_other_reason():
    assert judge_pair([], policy=POLICY, min_judgments=3, escalated=True).reason == "escalated"


def test_reliability_weighting_lets_the_reliable_reviewer_outvote_two_unreliable_ones():
    cast = votes("a", "b", "b")
    reliability = {1: 0.95, 2: 0.3, 3: 0.3}
    assert judge_pair(cast, policy=POLICY, min_judgments=3, reliability=reliability).outcome == "b"
    weighted = judge_pair(cast, policy=ExportPolicy(weighting="reliability"), min_judgments=3, reliability=reliability)
    assert weighted.outcome == "a"
    assert weighted.agreement == pytest.approx(0.95 / 1.55)


def test_reliability_weighting_can_split_the_vote_evenly():
    decision = judge_pair(
        votes("a", "b", "b"),
        policy=ExportPolicy(weighting="reliability"),
        min_judgments=3,
        reliability={1: 0.8, 2: 0.4, 3: 0.4},
    )
    assert decision.reason == "split_tie_vote"


def test_reliability_prefers_gold_accuracy_over_agreement():
    scores = reliability_scores(gold={1: (9, 10)}, agreement={1: (1, 10), 2: (3, 4), 3: (0, 0)})
    assert scores == {1: 0.9, 2: 0.75}


def test_strength_is_the_median_of_the_majority():
    decision = judge_pair(
        votes("a", "a", "a", "b", strengths=("slight", "strong", "strong", "slight")), policy=POLICY, min_judgments=3
    )
    assert decision.strength == "strong"
    assert median_strength(["slight", "strong"]) == "slight"
    assert median_strength(["", ""]) is None


def test_split_keeps_every_pair_of_a_prompt_together_and_is_seeded():
    sides = {split_of(seed=0, locale="en-US", prompt_key=f"p{i}", test_share=0.3) for _ in range(3) for i in [7]}
    assert len(sides) == 1
    first = [split_of(seed=0, locale="en-US", prompt_key=f"p{i}", test_share=0.3) for i in range(2000)]
    other = [split_of(seed=1, locale="en-US", prompt_key=f"p{i}", test_share=0.3) for i in range(2000)]
    assert first != other
    assert 0.25 < first.count("test") / 2000 < 0.35


def test_split_gives_each_locale_its_share():
    for locale in ("en-US", "ja-JP", "de-DE"):
        sides = [split_of(seed=3, locale=locale, prompt_key=f"p{i}", test_share=0.1) for i in range(3000)]
        assert 0.08 < sides.count("test") / 3000 < 0.12


def test_policy_from_dict_names_the_bad_knob():
    assert ExportPolicy.from_dict({"min_judgments": "", "min_agreement": "0.7"}) == ExportPolicy(min_agreement=0.7)
    with pytest.raises(PolicyError, match="min_agreement"):
        ExportPolicy.from_dict({"min_agreement": 1.5})
    with pytest.raises(PolicyError, match="colour: not a policy setting"):
        ExportPolicy.from_dict({"colour": "red"})
    with pytest.raises(PolicyError, match="weighting"):
        ExportPolicy.from_dict({"weighting": "loudest"})
    with pytest.raises(PolicyError, match="test_share: expected a number, got 'lots'"):
        ExportPolicy.from_dict({"test_share": "lots"})


def _peer_decision(outcomes: list[str], min_judgments: int, min_agreement: float) -> tuple[str | None, str | None]:
    """A plain restatement of the policy for unweighted votes: (outcome, reason)."""
    from collections import Counter

    if len(outcomes) < min_judgments:
        return None, "too_few_judgments"
    ranked = Counter(outcomes).most_common()
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        return None, "split_tie_vote"
    winner, count = ranked[0]
    if count / len(outcomes) < min_agreement:
        return None, "low_agreement"
    if winner == "both_bad":
        return None, "both_bad"
    return winner, None


@given(
    outcomes=st.lists(st.sampled_from(["a", "b", "tie", "both_bad"]), max_size=9),
    min_judgments=st.integers(1, 5),
    min_agreement=st.sampled_from([0.0, 0.5, 0.6, 2 / 3, 0.75, 1.0]),
    weight=st.sampled_from(["agreement", "uniform"]),
)
def test_judge_pair_matches_a_plain_restatement_on_random_votes(outcomes, min_judgments, min_agreement, weight):
    policy = ExportPolicy(min_agreement=min_agreement, weight=weight)
    decision = judge_pair(votes(*outcomes), policy=policy, min_judgments=min_judgments)
    assert (decision.outcome, decision.reason) == _peer_decision(outcomes, min_judgments, min_agreement)
    if decision.exported:
        assert 0 < decision.weight <= 1 and min_agreement <= decision.agreement + 1e-9
        assert decision.strength == "clear" or decision.outcome == "tie"


@given(
    outcomes=st.lists(st.sampled_from(["a", "b", "tie"]), min_size=1, max_size=7),
    scale=st.floats(0.1, 10),
)
def test_reliability_weighting_with_equal_weights_is_plain_majority(outcomes, scale):
    cast = votes(*outcomes)
    plain = judge_pair(cast, policy=POLICY, min_judgments=1)
    weighted = judge_pair(
        cast,
        policy=ExportPolicy(weighting="reliability"),
        min_judgments=1,
        reliability={vote.reviewer_id: scale for vote in cast},
    )
    assert (weighted.outcome, weighted.reason) == (plain.outcome, plain.reason)
    assert weighted.agreement == pytest.approx(plain.agreement)
