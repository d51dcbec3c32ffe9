"""The validity policy for dataset exports, as pure functions (no Django): which pairs are kept and how they weigh.

One pair goes through `judge_pair` with its votes, already cleaned of flagged reviewers and with lead resolutions in
place of escalations. The checks run in a fixed order, so every excluded pair has exactly one reason:

    gold → duplicate → escalated → flagged reviewer / too few judgments → split tie vote → low agreement → both bad

and what survives is either a preference (outcome a or b, for train/test) or a tie (for ties.jsonl). The pair
difficulty and artifact knobs (export_difficulty.py) then screen what survives:

    near-duplicate answers → too easy for the reference model → longer-answer cap

Two checks of the exporter stand around them (services/exporting.py): an evaluation campaign's pairs are left out
first unless `include_evaluation` asks for them, and a protected prompt (annotate/protection.py) never reaches a
training file: its preferences go to test whatever the split hash says, its ties (trained on by tie-aware losses) are
left out as "protected prompt", before the difficulty knobs.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from annotate import export_difficulty
from annotate.export_difficulty import KNOBS, KnobError
from annotate.quality.codes import STRENGTHS
from annotate.sources import DEFAULT_FILTER, SOURCE_FILTERS

WEIGHTINGS = ("majority", "reliability")
WEIGHT_MODES = ("agreement", "uniform")

# Exclusion reasons, in the order the checks run; the values are what people read.
REASONS = {
    "evaluation": "evaluation campaign",
    "gold": "gold pair",
    "duplicate": "duplicate",
    "escalated": "escalated",
    "flagged_reviewer": "flagged reviewer",
    "too_few_judgments": "too few judgments",
    "split_tie_vote": "split tie vote",
    "low_agreement": "low agreement",
    "both_bad": "both bad",
    "protected": "protected prompt (tie)",
    # Difficulty and artifact knobs (export_difficulty.py): only pairs the checks above would export.
    **export_difficulty.REASONS,
}
# Vote totals are floats under reliability weighting: closer than this counts as a tie in the vote.
VOTE_EPSILON = 1e-9


class PolicyError(ValueError):
    """A policy value a person typed is out of range; the message names the knob."""


# Bounds of the whole-number knobs: a seed is hashed as text, but it is stored in JSON columns and manifests that
# other tools read as 64-bit integers; no campaign asks for more judgments per pair than this.
MAX_SEED = 2**63 - 1
MAX_MIN_JUDGMENTS = 1000


def _number(name: str, value: Any, kind: type) -> int | float:
    """`value` as `kind` (int or float): numbers as they are, text (forms, flags) parsed; never a bool or ±inf/NaN."""
    if isinstance(value, str):
        try:
            value = kind(value.strip())
        except ValueError:
            raise PolicyError(f"{name}: expected a number, got {value[:40]!r}") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PolicyError(f"{name}: expected a number, got {str(value)[:40]!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise PolicyError(f"{name}: expected a finite number, got {value!r}")
    if kind is int:
        if isinstance(value, float) and not value.is_integer():
            raise PolicyError(f"{name}: expected a whole number, got {value!r}")
        return int(value)
    try:
        return float(value)
    except OverflowError:  # an integer with hundreds of digits
        raise PolicyError(f"{name}: expected a share between 0 and 1, got {str(value)[:40]}…") from None


def _flag(name: str, value: str) -> bool:
    """A yes/no knob typed as text."""
    word = value.strip().lower()
    if word in ("true", "1", "on", "yes"):
        return True
    if word in ("false", "0", "off", "no", ""):
        return False
    raise PolicyError(f"{name}: expected true or false, got {value[:40]!r}")


@dataclass(frozen=True)
class ExportPolicy:
    """Every knob of an export. `min_judgments=None` means each campaign's overlap.

    This is the one place policy values are checked, for the page, the API and the command alike: types and ranges
    on construction (`__post_init__`), and `from_dict` for values that arrive as JSON, form data or text.
    """

    min_judgments: int | None = None
    min_agreement: float = 0.6
    weighting: str = "majority"
    weight: str = "agreement"
    test_share: float = 0.1
    seed: int = 0
    source: str = DEFAULT_FILTER  # whose judgments count (annotate/sources.py): AI judges only when asked for
    # Evaluation campaigns' judgments are on-policy pairs a lead may train on; never their protected prompts.
    include_evaluation: bool = False
    # Pair difficulty and artifacts: defaults, ranges and meaning in export_difficulty.KNOBS.
    reference_model_digest: str = KNOBS["reference_model_digest"].default
    margin_unit: str = KNOBS["margin_unit"].default
    max_margin_nats: float | None = KNOBS["max_margin_nats"].default
    longer_answer_cap: float | None = KNOBS["longer_answer_cap"].default
    drop_near_duplicates: bool = KNOBS["drop_near_duplicates"].default

    def __post_init__(self) -> None:
        if self.min_judgments is not None:
            _number("min_judgments", self.min_judgments, int)
            if not 1 <= self.min_judgments <= MAX_MIN_JUDGMENTS:
                raise PolicyError(
                    f"min_judgments: expected a whole number from 1 to {MAX_MIN_JUDGMENTS} or empty, "
                    f"got {str(self.min_judgments)[:40]}"
                )
        if not 0.0 <= _number("min_agreement", self.min_agreement, float) <= 1.0:
            raise PolicyError(f"min_agreement: expected a share between 0 and 1, got {self.min_agreement!r}")
        if not isinstance(self.weighting, str) or self.weighting not in WEIGHTINGS:
            raise PolicyError(f"weighting: expected one of {', '.join(WEIGHTINGS)}, got {self.weighting!r:.40}")
        if not isinstance(self.weight, str) or self.weight not in WEIGHT_MODES:
            raise PolicyError(f"weight: expected one of {', '.join(WEIGHT_MODES)}, got {self.weight!r:.40}")
        if not 0.0 <= _number("test_share", self.test_share, float) < 1.0:
            raise PolicyError(f"test_share: expected a share in [0, 1), got {self.test_share!r}")
        if not 0 <= _number("seed", self.seed, int) <= MAX_SEED:
            raise PolicyError(f"seed: expected a whole number from 0 to 2^63-1, got {str(self.seed)[:40]}")
        if not isinstance(self.source, str) or self.source not in SOURCE_FILTERS:  # a JSON object is unhashable
            raise PolicyError(f"source: expected one of {', '.join(SOURCE_FILTERS)}, got {str(self.source)[:40]!r}")
        if not isinstance(self.include_evaluation, bool):
            raise PolicyError(f"include_evaluation: expected true or false, got {str(self.include_evaluation)[:40]!r}")
        try:
            export_difficulty.check_knobs(self)
        except KnobError as exc:
            raise PolicyError(str(exc)) from None

    @classmethod
    def from_dict(cls, data: Any) -> ExportPolicy:
        """Build from user input (JSON, a form, command flags); unknown keys are an error, absent keys the default."""
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            raise PolicyError(f"policy: expected an object of settings, got {type(data).__name__}")
        data = dict(data)
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known, key=str)
        if unknown:
            raise PolicyError(f"{str(unknown[0])[:40]}: not a policy setting (known: {', '.join(sorted(known))})")
        converters = {"min_judgments": int, "min_agreement": float, "test_share": float, "seed": int}
        for name, kind in converters.items():
            if name == "min_judgments" and data.get(name) in ("", None):
                data[name] = None
            elif name in data:
                data[name] = _number(name, data[name], kind)
        if isinstance(data.get("include_evaluation"), str):  # a form's checkbox or a command flag
            data["include_evaluation"] = _flag("include_evaluation", data["include_evaluation"])
        try:
            data = export_difficulty.convert_knobs(data)
        except KnobError as exc:
            raise PolicyError(str(exc)) from None
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Vote:
    """One judgment as it counts: outcome in a|b|tie|both_bad, after a lead's resolution replaced an escalation."""

    judgment_id: int
    reviewer_id: int
    outcome: str
    strength: str = ""


@dataclass
class PairDecision:
    """What the policy made of one pair: `reason` is set for excluded pairs, else `outcome` is a, b or tie."""

    outcome: str | None = None
    reason: str | None = None
    agreement: float = 0.0
    weight: float = 0.0
    strength: str | None = None
    votes: list[Vote] = field(default_factory=list)

    @property
    def exported(self) -> bool:
        return self.reason is None


def tally(votes: Iterable[Vote], reliability: Mapping[int, float] | None = None) -> dict[str, float]:
    """Vote mass per outcome: one per judgment, or the reviewer's reliability when given (unknown reviewers: 1)."""
    totals: dict[str, float] = {}
    for vote in votes:
        mass = 1.0 if reliability is None else reliability.get(vote.reviewer_id, 1.0)
        totals[vote.outcome] = totals.get(vote.outcome, 0.0) + mass
    return totals


def majority(totals: Mapping[str, float]) -> str | None:
    """The outcome with the most vote mass, or None when the top is shared (a tie in the vote) or nothing was cast."""
    ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
    if not ranked or ranked[0][1] <= 0:
        return None
    if len(ranked) > 1 and ranked[0][1] - ranked[1][1] <= VOTE_EPSILON:
        return None
    return ranked[0][0]


def median_strength(strengths: Iterable[str]) -> str | None:
    """The median of slight < clear < strong (the lower median for an even count); None when none was given."""
    ranks = sorted(STRENGTHS.index(s) for s in strengths if s in STRENGTHS)
    if not ranks:
        return None
    return STRENGTHS[ranks[(len(ranks) - 1) // 2]]


def judge_pair(
    votes: list[Vote],
    *,
    policy: ExportPolicy,
    min_judgments: int,
    flagged_dropped: int = 0,
    escalated: bool = False,
    reliability: Mapping[int, float] | None = None,
) -> PairDecision:
    """Apply the policy to one non-gold, non-duplicate pair.

    `votes` are the counted judgments (flagged reviewers already dropped, `flagged_dropped` of them);
    `escalated` is true when an escalation is unresolved or a lead chose to discard the pair.
    """
    decision = PairDecision(votes=votes)
    if escalated:
        decision.reason = "escalated"
        return decision
    if len(votes) < min_judgments:
        enough_before = len(votes) + flagged_dropped >= min_judgments
        decision.reason = "flagged_reviewer" if flagged_dropped and enough_before else "too_few_judgments"
        return decision
    totals = tally(votes, reliability if policy.weighting == "reliability" else None)
    winner = majority(totals)
    if winner is None:
        decision.reason = "split_tie_vote"
        return decision
    decision.agreement = totals[winner] / sum(totals.values())
    if decision.agreement + VOTE_EPSILON < policy.min_agreement:
        decision.reason = "low_agreement"
        return decision
    if winner == "both_bad":
        decision.reason = "both_bad"
        return decision
    decision.outcome = winner
    decision.weight = 1.0 if policy.weight == "uniform" else decision.agreement
    decision.strength = median_strength(v.strength for v in votes if v.outcome == winner)
    return decision


def reliability_scores(
    gold: Mapping[int, tuple[int, int]], agreement: Mapping[int, tuple[int, int]]
) -> dict[int, float]:
    """Each reviewer's reliability: gold accuracy where they judged gold pairs, else agreement with the majority.

    Both maps hold reviewer id → (hits, total). Reviewers with neither get nothing here (they count 1 in `tally`).
    """
    scores = {reviewer: hits / total for reviewer, (hits, total) in agreement.items() if total}
    scores.update({reviewer: hits / total for reviewer, (hits, total) in gold.items() if total})
    return dict(sorted(scores.items()))


def split_of(*, seed: int, locale: str, prompt_key: str, test_share: float) -> str:
    """'test' or 'train' for a prompt, from a hash of (seed, locale, prompt): stable, needs no global state.

    Every pair of one prompt lands on the same side, and within each locale the test side holds `test_share` of the
    prompts in expectation, whatever the other locales hold.
    """
    digest = hashlib.sha256(f"{seed}\x1f{locale}\x1f{prompt_key}".encode()).digest()
    draw = int.from_bytes(digest[:8], "big") / 2**64
    return "test" if draw < test_share else "train"


def content_key(*parts: str) -> str:
    """A short digest naming content (a prompt, a pair) for duplicate checks and the split."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode())
        digest.update(b"\x00")
    return digest.hexdigest()[:32]
