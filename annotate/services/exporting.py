"""Dataset snapshots: stream judgments through the validity policy and write DPO-ready files in TRL's format.

Memory stays bounded however many judgments there are: pairs arrive in chunks (`export_source.iter_pairs`), each
pair is decided and written at once, and the train/test side of a prompt comes from a hash
(`export_policy.split_of`). What grows with the data is one short digest per pair for the duplicate
check and a few counters per reviewer and locale.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from annotate.db import repeatable_read
from annotate.export_policy import REASONS, ExportPolicy, PairDecision, content_key, judge_pair, split_of
from annotate.models import Campaign, DatasetSnapshot
from annotate.protection import prompt_digest
from annotate.selectors import protected_prompt_keys
from annotate.services.export_difficulty import DifficultyScreen, with_margins
from annotate.services.export_source import (
    Pair,
    active_flags,
    count_votes,
    has_conversations,
    iter_pairs,
    reviewer_reliability,
)
from annotate.sources import sources_for
from config.version import code_version

DATA_FILES = ("train.jsonl", "test.jsonl", "ties.jsonl", "excluded.jsonl")
MANIFEST = "manifest.json"
SNAPSHOT_FILES = (*DATA_FILES, MANIFEST)
MANIFEST_FORMAT = "verdict-snapshot/1"


class ExportError(ValueError):
    """The export cannot be made as asked (no campaigns, an output folder in the way); the message says why."""


@dataclass
class ExportCounts:
    """What an export made of the pairs; the same figures the manifest, the preview and the pages show."""

    pairs: int = 0
    per_split: Counter = field(default_factory=Counter)
    per_reason: Counter = field(default_factory=Counter)
    per_locale: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    agreement_sum: float = 0.0
    reliability: dict[int, float] = field(default_factory=dict)
    conversational: bool = False
    per_source: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))  # pairs, judgments
    protected_to_test: int = 0  # preferences of protected prompts the split hash put in train, written to test
    difficulty: DifficultyScreen | None = None

    @property
    def exported(self) -> int:
        return sum(self.per_split.values())

    @property
    def excluded(self) -> int:
        return sum(self.per_reason.values())

    @property
    def mean_agreement(self) -> float:
        return round(self.agreement_sum / self.exported, 6) if self.exported else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "pairs": self.pairs,
            "exported": self.exported,
            "excluded": self.excluded,
            "per_split": {name: self.per_split[name] for name in ("train", "test", "ties")},
            "per_reason": {reason: self.per_reason[reason] for reason in REASONS},
            "per_locale": {
                locale: {name: counts[name] for name in ("train", "test", "ties", "excluded")}
                for locale, counts in sorted(self.per_locale.items())
            },
            "mean_agreement": self.mean_agreement,
            # Every source present in the campaigns, counted or not: what the policy's `source` left out shows.
            "per_source": {
                source: {"pairs": counts["pairs"], "judgments": counts["judgments"]}
                for source, counts in sorted(self.per_source.items())
            },
            "protected_to_test": self.protected_to_test,
            "difficulty": self.difficulty.as_dict() if self.difficulty else None,
        }


class _FileSink:
    """Writes JSON lines into a folder, hashing as it goes."""

    def __init__(self, folder: Path) -> None:
        self.handles = {name: (folder / name).open("wb") for name in DATA_FILES}
        self.digests = {name: hashlib.sha256() for name in DATA_FILES}
        self.rows = Counter()

    def write(self, name: str, row: dict[str, Any]) -> None:
        line = (json.dumps(row, ensure_ascii=False) + "\n").encode()
        self.handles[name].write(line)
        self.digests[name].update(line)
        self.rows[name] += 1

    def close(self) -> dict[str, dict[str, Any]]:
        files = {}
        for name, handle in self.handles.items():
            files[name] = {"sha256": self.digests[name].hexdigest(), "bytes": handle.tell(), "rows": self.rows[name]}
            handle.close()
        return files


def _prompt(pair: Pair, conversational: bool) -> str | list[dict[str, Any]]:
    if pair.row["prompt__messages"]:
        return pair.row["prompt__messages"]
    text = pair.row["prompt__text"]
    return [{"role": "user", "content": text}] if conversational else text


def _completion(pair: Pair, side: str, conversational: bool) -> str | list[dict[str, str]]:
    text = pair.row[f"candidate_{side}__text"]
    return [{"role": "assistant", "content": text}] if conversational else text


def _model(pair: Pair, side: str) -> dict[str, str]:
    return {"name": pair.row[f"candidate_{side}__model_name"], "version": pair.row[f"candidate_{side}__model_version"]}


def _exported_row(
    pair: Pair, decision: PairDecision, *, campaign_slug: str, split: str, conversational: bool
) -> dict[str, Any]:
    chosen, rejected = ("b", "a") if decision.outcome == "b" else ("a", "b")
    row: dict[str, Any] = {
        "prompt": _prompt(pair, conversational),
        "chosen": _completion(pair, chosen, conversational),
        "rejected": _completion(pair, rejected, conversational),
        "meta": {
            "pair_id": pair.row["id"],
            "campaign": campaign_slug,
            "prompt_id": pair.row["prompt__external_id"],
            "locale": pair.row["prompt__locale__code"],
            "tags": pair.row["prompt__tags"] or {},
            "outcome": decision.outcome,
            "split": split,
            "weight": round(decision.weight, 6),
            "strength": decision.strength,
            "judgments": len(decision.votes),
            "agreement": round(decision.agreement, 6),
            "judgment_ids": [vote.judgment_id for vote in decision.votes],
            "chosen_model": _model(pair, chosen),
            "rejected_model": _model(pair, rejected),
        },
    }
    if decision.outcome == "tie":
        row["tie"] = True
    return row


def _excluded_row(pair: Pair, reason: str, *, campaign_slug: str) -> dict[str, Any]:
    return {
        "pair_id": pair.row["id"],
        "campaign": campaign_slug,
        "prompt_id": pair.row["prompt__external_id"],
        "locale": pair.row["prompt__locale__code"],
        "reason": reason,
        "judgment_ids": [judgment[0] for judgment in pair.judgments],
    }


def _is_protected(pair: Pair, protected: set[tuple[str, str]]) -> bool:
    digest = prompt_digest(pair.row["prompt__text"], pair.row["prompt__messages"])
    return (digest, pair.row["prompt__locale__code"]) in protected


def _min_judgments(campaign: Campaign, policy: ExportPolicy) -> int:
    return policy.min_judgments if policy.min_judgments is not None else max(campaign.overlap, 1)


def _run(
    campaigns: Sequence[Campaign],
    policy: ExportPolicy,
    sink: _FileSink | None,
    progress: Callable[[int], None] | None = None,
    cap_drops: set[int] | None = None,
) -> ExportCounts:
    """Decide every pair of the campaigns and hand each row to the sink (None: count only); returns the counts.

    `progress`, if given, is called with the number of pairs read so far after each pair (it throttles itself).
    `cap_drops` are the pairs the longer-answer cap drops (see `_decide`).
    """
    by_id = {campaign.id: campaign for campaign in campaigns}
    campaign_ids = sorted(by_id)
    flags = active_flags(campaign_ids)
    sources = sources_for(policy.source)
    reliability = reviewer_reliability(campaign_ids, flags, sources) if policy.weighting == "reliability" else {}
    conversational = has_conversations(campaign_ids)
    protected = protected_prompt_keys()  # one digest per protected prompt, whatever campaign protected it
    screen = DifficultyScreen(policy, cap_drops)
    counts = ExportCounts(reliability=reliability, conversational=conversational, difficulty=screen)
    seen: set[bytes] = set()  # 16 bytes per pair: the one structure that grows with the data
    for pair, margin in with_margins(iter_pairs(campaign_ids, sources=sources), policy.reference_model_digest):
        campaign = by_id[pair.row["campaign_id"]]
        locale = pair.row["prompt__locale__code"]
        counts.pairs += 1
        for source, judgments in pair.by_source.items():
            counts.per_source[source]["pairs"] += 1
            counts.per_source[source]["judgments"] += judgments
        if progress is not None:
            progress(counts.pairs)
        reason = None
        if campaign.purpose == Campaign.Purpose.EVALUATION and not policy.include_evaluation:
            reason = "evaluation"
        elif pair.row["gold_outcome"]:
            reason = "gold"
        else:
            texts = sorted((pair.row["candidate_a__text"], pair.row["candidate_b__text"]))
            key = bytes.fromhex(content_key(pair.prompt_key, *texts))
            if key in seen:
                reason = "duplicate"
            seen.add(key)
        if reason is None:
            votes, dropped, escalated = count_votes(pair, flags)
            decision = judge_pair(
                votes,
                policy=policy,
                min_judgments=_min_judgments(campaign, policy),
                flagged_dropped=dropped,
                escalated=escalated,
                reliability=reliability,
            )
            reason = decision.reason
        is_protected = reason is None and bool(protected) and _is_protected(pair, protected)
        if is_protected and decision.outcome == "tie":
            reason = "protected"  # ties.jsonl is trained on by tie-aware losses, and there is no test file of ties
        if reason is None:
            reason = screen.screen(pair, decision, margin)
        if reason is not None:
            counts.per_reason[reason] += 1
            counts.per_locale[locale]["excluded"] += 1
            if sink is not None:
                sink.write("excluded.jsonl", _excluded_row(pair, reason, campaign_slug=campaign.slug))
            continue
        split = split_of(seed=policy.seed, locale=locale, prompt_key=pair.prompt_key, test_share=policy.test_share)
        if is_protected and split == "train":
            split = "test"
            counts.protected_to_test += 1
        name = "ties" if decision.outcome == "tie" else split
        counts.per_split[name] += 1
        counts.per_locale[locale][name] += 1
        counts.agreement_sum += decision.agreement
        if sink is not None:
            row = _exported_row(pair, decision, campaign_slug=campaign.slug, split=split, conversational=conversational)
            row["meta"].update(screen.row_meta(pair, decision, margin))
            sink.write(f"{name}.jsonl", row)
    return counts


def _decide(
    campaigns: Sequence[Campaign],
    policy: ExportPolicy,
    sink: _FileSink | None,
    progress: Callable[[int], None] | None = None,
) -> ExportCounts:
    """`_run`, after a counting pass that chooses what the longer-answer cap drops when the policy has a cap."""
    cap_drops = None
    if policy.longer_answer_cap is not None:
        cap_drops = _run(campaigns, policy, None).difficulty.choose_cap_drops()
    return _run(campaigns, policy, sink, progress, cap_drops)


def _ordered(campaigns: Iterable[Campaign]) -> list[Campaign]:
    campaigns = sorted({campaign.id: campaign for campaign in campaigns}.values(), key=lambda c: c.slug)
    if not campaigns:
        raise ExportError("campaigns: choose at least one campaign to export")
    return campaigns


def export_preview(*, campaigns: Iterable[Campaign], policy: ExportPolicy) -> dict[str, Any]:
    """The counts an export with this policy would have, without writing anything."""
    campaigns = _ordered(campaigns)
    with repeatable_read():
        counts = _decide(campaigns, policy, None)
    return counts.as_dict()


def _manifest(
    campaigns: Sequence[Campaign],
    policy: ExportPolicy,
    counts: ExportCounts,
    files: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    """The deterministic part of the manifest: same policy and judgments → same dict."""
    return {
        "format": MANIFEST_FORMAT,
        "policy": policy.to_dict(),
        "campaigns": [
            {
                "slug": campaign.slug,
                "name": campaign.name,
                "rubric": {"slug": campaign.rubric.slug, "version": campaign.rubric.version},
                "min_judgments": _min_judgments(campaign, policy),
            }
            for campaign in campaigns
        ],
        "counts": counts.as_dict(),
        "row_format": "conversational" if counts.conversational else "standard",
        "reliability": {str(reviewer): round(score, 6) for reviewer, score in counts.reliability.items()},
        "files": files,
        "code_version": code_version(),
    }


def _snapshot_root() -> Path:
    root = Path(settings.DATA_DIR) / "snapshots"
    root.mkdir(parents=True, exist_ok=True)
    return root


def _next_version(root: Path) -> int:
    version = (DatasetSnapshot.objects.aggregate(top=Max("version"))["top"] or 0) + 1
    while (root / f"v{version}").exists():  # a folder left by a crashed export is never reused
        version += 1
    return version


def _publish(
    building: Path, manifest: dict[str, Any], *, campaigns: Sequence[Campaign], policy, created_by
) -> DatasetSnapshot:
    """Give the built folder the next version: rename it into place and record it, retrying if another export won."""
    root = building.parent
    for _ in range(10):
        version = _next_version(root)
        final = root / f"v{version}"
        full = {
            **manifest,
            "version": version,
            "created_by": getattr(created_by, "username", None),
            "created_at": timezone.now().isoformat(),
        }
        data = (json.dumps(full, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()
        (building / MANIFEST).write_bytes(data)
        try:
            os.rename(building, final)
        except OSError:
            continue  # another export took this folder name first
        try:
            with transaction.atomic():
                snapshot = DatasetSnapshot.objects.create(
                    version=version,
                    policy=policy.to_dict(),
                    path=str(final),
                    manifest=full,
                    manifest_sha256=hashlib.sha256(data).hexdigest(),
                    created_by=created_by if getattr(created_by, "pk", None) else None,
                )
                snapshot.campaigns.set(campaigns)
        except IntegrityError:
            os.rename(final, building)
            continue
        final.chmod(0o755)
        for name in SNAPSHOT_FILES:
            (final / name).chmod(0o444)  # never rewritten: a new export is a new version
        return snapshot
    raise ExportError("could not claim a snapshot version after 10 tries; try again")


def _copy_out(snapshot: DatasetSnapshot, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in SNAPSHOT_FILES:
        shutil.copyfile(Path(snapshot.path) / name, out_dir / name)


def _check_out_dir(out_dir: Path | None) -> Path | None:
    if out_dir is None:
        return None
    out_dir = Path(out_dir)
    clashing = [name for name in SNAPSHOT_FILES if (out_dir / name).exists()]
    if clashing:
        raise ExportError(f"{out_dir}: already holds {', '.join(clashing)}; choose an empty folder")
    return out_dir


def snapshot_create(
    *,
    campaigns: Iterable[Campaign],
    policy: ExportPolicy,
    created_by: AbstractBaseUser | None,
    out_dir: Path | str | None = None,
    progress: Callable[[int], None] | None = None,
) -> DatasetSnapshot:
    """Export the campaigns' pairs under `policy` as a new snapshot version in DATA_DIR/snapshots/v<N>/.

    With `out_dir`, the files are copied there too; the copy under DATA_DIR stays the canonical one. `progress` is
    called with the pairs read so far (see `_run`).
    """
    campaigns = _ordered(campaigns)
    out_dir = _check_out_dir(None if out_dir is None else Path(out_dir))
    building = Path(tempfile.mkdtemp(prefix=".building-", dir=_snapshot_root()))
    try:
        sink = _FileSink(building)
        try:
            with repeatable_read():
                counts = _decide(campaigns, policy, sink, progress)
        finally:
            files = sink.close()
        manifest = _manifest(campaigns, policy, counts, files)
        snapshot = _publish(building, manifest, campaigns=campaigns, policy=policy, created_by=created_by)
    finally:
        if building.exists():
            shutil.rmtree(building, ignore_errors=True)
    if out_dir is not None:
        _copy_out(snapshot, out_dir)
    return snapshot
