from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from annotate.export_difficulty import KNOBS
from annotate.export_policy import WEIGHT_MODES, WEIGHTINGS, ExportPolicy, PolicyError
from annotate.models import Campaign
from annotate.services.exporting import ExportError, snapshot_create
from annotate.sources import SOURCE_FILTERS


class Command(BaseCommand):
    help = "Export the campaigns' judged pairs as a new dataset snapshot (TRL preference JSONL + manifest)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--campaign", action="append", required=True, help="Campaign slug (repeat for more)")
        parser.add_argument("--out", type=Path, default=None, help="Also copy the files into this folder")
        parser.add_argument("--min-judgments", type=int, default=None, help="Default: each campaign's overlap")
        parser.add_argument("--min-agreement", type=float, default=ExportPolicy.min_agreement)
        parser.add_argument("--weighting", choices=WEIGHTINGS, default=ExportPolicy.weighting)
        parser.add_argument("--weight", choices=WEIGHT_MODES, default=ExportPolicy.weight)
        parser.add_argument("--test-share", type=float, default=ExportPolicy.test_share)
        parser.add_argument("--seed", type=int, default=ExportPolicy.seed)
        parser.add_argument(
            "--source",
            choices=SOURCE_FILTERS,
            default=ExportPolicy.source,
            help="Whose judgments count (AI: only asked)",
        )
        parser.add_argument(
            "--include-evaluation",
            action="store_true",
            help="Also export evaluation campaigns' judgments (protected prompts never reach train)",
        )
        for name, knob in KNOBS.items():  # the difficulty knobs, from their one table
            flag = "--" + name.replace("_", "-")
            if isinstance(knob.default, bool):
                parser.add_argument(flag, action="store_true", help=knob.help)
            else:
                parser.add_argument(flag, default=None, choices=knob.choices or None, help=knob.help)

    def handle(self, *args, campaign: list[str], out: Path | None, **options) -> None:
        found = {c.slug: c for c in Campaign.objects.filter(slug__in=campaign).select_related("rubric")}
        missing = [slug for slug in campaign if slug not in found]
        if missing:
            raise CommandError(f"--campaign: no campaign named {', '.join(missing)}")
        try:
            knobs = {name: options[name] for name in KNOBS if options[name] is not None}
            policy = ExportPolicy.from_dict(
                {
                    "min_judgments": options["min_judgments"],
                    "min_agreement": options["min_agreement"],
                    "weighting": options["weighting"],
                    "weight": options["weight"],
                    "test_share": options["test_share"],
                    "seed": options["seed"],
                    "source": options["source"],
                    "include_evaluation": options["include_evaluation"],
                    **knobs,
                }
            )
            snapshot = snapshot_create(campaigns=found.values(), policy=policy, created_by=None, out_dir=out)
        except (PolicyError, ExportError) as exc:
            raise CommandError(str(exc)) from exc
        counts = snapshot.manifest["counts"]
        split = counts["per_split"]
        self.stdout.write(
            f"snapshot v{snapshot.version}: {counts['pairs']} pairs, {split['train']} train, {split['test']} test, "
            f"{split['ties']} ties, {counts['excluded']} excluded → {snapshot.path}"
        )
        for reason, count in counts["per_reason"].items():
            if count:
                self.stdout.write(f"  excluded, {reason.replace('_', ' ')}: {count}")
        longer = counts["difficulty"]["longer_answer_share"]["after"]
        if longer is not None:
            self.stdout.write(f"  won by the longer answer: {longer:.1%} of exported preferences")
        if out is not None:
            self.stdout.write(f"copied to {out}")
