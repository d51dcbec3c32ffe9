from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from annotate.services.importing import ImportRejected
from annotate.services.judgment_imports import import_judgments


class Command(BaseCommand):
    help = "Import judgments (imported annotators or AI judges) from JSONL, one judgment a line; streams any size."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--campaign", required=True, help="Slug of the campaign holding the imported prompts")

    def handle(self, *args, file: Path, campaign: str, **options) -> None:
        if not file.is_file():
            raise CommandError(f"{file}: no such file")
        try:
            with file.open("rb") as lines:
                result = import_judgments(campaign_slug=campaign, lines=lines)
        except ImportRejected as exc:
            for error in exc.errors:
                self.stderr.write(error)
            raise CommandError(f"{file}: {len(exc.errors)} problem(s); nothing was imported.") from exc
        sources = ", ".join(f"{count} {source}" for source, count in sorted(result.by_source.items())) or "none new"
        self.stdout.write(
            f"{result.campaign.slug}: {result.lines} lines, {result.judgments_created} new judgments ({sources}), "
            f"{result.already_present} already present, {result.comparisons_created} new comparisons"
        )
