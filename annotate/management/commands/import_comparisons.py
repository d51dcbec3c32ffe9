from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from annotate.services.importing import PAIRING_MODES, ImportRejected, import_comparisons


class Command(BaseCommand):
    help = "Import prompts and candidates from JSONL (Verdict or TRL preference format) as comparison pairs."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--campaign", required=True, help="Campaign slug (created if new)")
        parser.add_argument("--pairs", choices=PAIRING_MODES, default="all")
        parser.add_argument(
            "--locale",
            default=None,
            help="Locale for rows that name none (default: the campaign's, when it has exactly one)",
        )
        parser.add_argument("--allow-empty", action="store_true", help="Accept empty answers (generated ones can be)")
        parser.add_argument(
            "--allow-identical",
            action="store_true",
            help="Accept identical answers: one model's collapse into one candidate, two models' get no pair",
        )

    def handle(
        self,
        *args,
        file: Path,
        campaign: str,
        pairs: str,
        locale: str | None,
        allow_empty: bool,
        allow_identical: bool,
        **options,
    ) -> None:
        if not file.is_file():
            raise CommandError(f"{file}: no such file")
        try:
            result = import_comparisons(
                campaign_slug=campaign,
                data=file.read_bytes(),
                pairs=pairs,
                default_locale=locale,
                allow_empty=allow_empty,
                allow_identical=allow_identical,
            )
        except ImportRejected as exc:
            for error in exc.errors:
                self.stderr.write(error)
            raise CommandError(f"{file}: {len(exc.errors)} problem(s); nothing was imported.") from exc
        self.stdout.write(
            f"{result.campaign.slug}: {result.rows_seen} rows, {result.prompts_created} new prompts, "
            f"{result.candidates_created} new candidates, {result.comparisons_created} new comparisons"
            + (f"; new locales: {', '.join(result.locales_added)}" if result.locales_added else "")
        )
