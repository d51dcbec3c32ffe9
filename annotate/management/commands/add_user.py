from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from annotate.roles import LEAD, REVIEWER
from annotate.services.users import user_create


class Command(BaseCommand):
    help = "Create a reviewer or lead, qualify them for locales, and print their API token."

    def add_arguments(self, parser) -> None:
        parser.add_argument("name")
        parser.add_argument("--role", choices=[REVIEWER, LEAD], required=True)
        parser.add_argument("--locales", default="", help="Comma-separated BCP 47 codes, e.g. en-US,ja-JP")
        parser.add_argument("--password", default=None)

    def handle(self, *args, name: str, role: str, locales: str, password: str | None, **options) -> None:
        codes = [code.strip() for code in locales.split(",") if code.strip()]
        try:
            _, token = user_create(username=name, role=role, locales=codes, password=password)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(token)
