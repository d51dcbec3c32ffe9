"""The difficulty and artifact knobs inside an export: each pair's reference margin, and the screen that applies
the knobs (annotate/export_difficulty.py) to the pairs the validity policy would export, counting as it goes.

The longer-answer cap needs the whole exported set's share before it can choose what to drop, so an export with a
cap decides every pair twice inside its one repeatable-read transaction: a counting pass picks the pairs to drop
(`LongerAnswerCap.choose`), and the writing pass drops them. What grows with the data is one (rank, pair id) per
pair won by the longer answer, in the counting pass only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from itertools import islice
from typing import Any

from annotate.export_difficulty import (
    EDGES,
    REASONS,
    Histogram,
    cap_drop_count,
    cap_rank,
    longer_won,
    near_duplicates,
    share,
)
from annotate.export_policy import ExportPolicy, PairDecision, content_key
from annotate.margin_selectors import PairMargin, pair_margins
from annotate.services.export_source import CHUNK_SIZE, Pair


def with_margins(pairs: Iterator[Pair], model_digest: str) -> Iterator[tuple[Pair, PairMargin | None]]:
    """Each pair with its margin (A over B) under the digest's model, None when unscored or no digest; one query per
    chunk of pairs."""
    if not model_digest:
        yield from ((pair, None) for pair in pairs)
        return
    while chunk := list(islice(pairs, CHUNK_SIZE)):
        ids = [(p.row["id"], p.row["candidate_a_id"], p.row["candidate_b_id"]) for p in chunk]
        margins = pair_margins(pairs=ids, model_digest=model_digest)
        yield from ((pair, margins.get(pair.row["id"])) for pair in chunk)


class DifficultyScreen:
    """Applies the knobs to one decided pair at a time (`screen`) and keeps the figures the manifest records.

    `cap_drops`: the pair ids the cap drops, chosen by a counting pass; None in that pass (or with no cap).
    """

    def __init__(self, policy: ExportPolicy, cap_drops: set[int] | None = None) -> None:
        self.policy = policy
        self.cap_drops = cap_drops
        self.dropped: Counter = Counter()
        self.near_flagged = 0
        self.scored = self.unscored = 0
        self.preferences = {"before": 0, "after": 0}
        self.longer = {"before": 0, "after": 0}
        self.cap_candidates: list[tuple[int, int]] = []  # (rank, pair id) of pairs the cap may drop
        unit_edges = EDGES["margin_sum" if policy.margin_unit == "sum" else "margin_per_token"]
        self.margin_histogram = Histogram(unit_edges) if policy.reference_model_digest else None
        self.length_histogram = Histogram(EDGES["length_difference"], integer=True)

    def margin_value(self, margin: PairMargin | None, outcome: str) -> float | None:
        if margin is None or outcome not in ("a", "b"):
            return None
        won = margin.for_winner(outcome)
        return won.sum if self.policy.margin_unit == "sum" else won.per_token

    def screen(self, pair: Pair, decision: PairDecision, margin: PairMargin | None) -> str | None:
        """The reason a knob drops this pair (one of export_difficulty.REASONS), or None to export it."""
        texts = pair.row["candidate_a__text"], pair.row["candidate_b__text"]
        near = near_duplicates(*texts)
        self.near_flagged += near
        reason = self._reason(pair, decision, margin, near, texts)
        if reason is not None:
            self.dropped[reason] += 1
        return reason

    def _reason(self, pair, decision, margin, near: bool, texts: tuple[str, str]) -> str | None:
        policy = self.policy
        if decision.outcome not in ("a", "b"):  # a tie has no winner: only the near-duplicate knob applies
            return "near_duplicate" if near and policy.drop_near_duplicates else None
        chosen, rejected = texts if decision.outcome == "a" else texts[::-1]
        longer = longer_won(chosen, rejected)
        self.preferences["before"] += 1
        self.longer["before"] += longer
        self.length_histogram.add(len(chosen) - len(rejected))
        value = self.margin_value(margin, decision.outcome)
        if policy.reference_model_digest:
            self.scored += value is not None
            self.unscored += value is None
            if value is not None:
                self.margin_histogram.add(value)
        if near and policy.drop_near_duplicates:
            return "near_duplicate"
        if policy.max_margin_nats is not None and value is not None and value > policy.max_margin_nats:
            return "too_easy"
        if policy.longer_answer_cap is not None and longer:
            if self.cap_drops is None:
                # Content, not ids, and either order of the answers: the same pairs imported again rank the same.
                rank = cap_rank(seed=policy.seed, pair_key=content_key(pair.prompt_key, *sorted(texts)))
                self.cap_candidates.append((rank, pair.row["id"]))
            elif pair.row["id"] in self.cap_drops:
                return "longer_answer_cap"
        self.preferences["after"] += 1
        self.longer["after"] += longer
        return None

    def choose_cap_drops(self) -> set[int]:
        """After a counting pass: the pair ids to drop so the longer answer wins at most `longer_answer_cap`."""
        k = cap_drop_count(
            longer=self.longer["after"], preferences=self.preferences["after"], cap=self.policy.longer_answer_cap
        )
        return {pair_id for _, pair_id in sorted(self.cap_candidates)[:k]}

    def row_meta(self, pair: Pair, decision: PairDecision, margin: PairMargin | None) -> dict[str, Any]:
        """What an exported row's meta gains: the near-duplicate flag, and the reference margin when one is chosen."""
        meta: dict[str, Any] = {
            "near_duplicate": near_duplicates(pair.row["candidate_a__text"], pair.row["candidate_b__text"])
        }
        if self.policy.reference_model_digest:
            won = margin.for_winner(decision.outcome) if margin and decision.outcome in ("a", "b") else None
            meta["reference_margin"] = (
                {"sum": round(won.sum, 6), "per_token": round(won.per_token, 6)} if won is not None else None
            )
        return meta

    def as_dict(self) -> dict[str, Any]:
        policy = self.policy
        margins = None
        if policy.reference_model_digest:
            margins = {
                "reference_model_digest": policy.reference_model_digest,
                "unit": policy.margin_unit,
                "scored": self.scored,
                "unscored": self.unscored,
            }
        return {
            "preferences": dict(self.preferences),
            "near_duplicates_flagged": self.near_flagged,
            "dropped": {reason: self.dropped[reason] for reason in REASONS},
            "margins": margins,
            "longer_answer_share": {
                stage: share(self.longer[stage], self.preferences[stage]) for stage in ("before", "after")
            },
            "histograms": {
                "margin": self.margin_histogram.as_dict() if self.margin_histogram else None,
                "length_difference": self.length_histogram.as_dict(),
            },
        }
