from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from annotate.roles import LEAD, REVIEWER
from annotate.services.tokens import api_token_create
from annotate.services.users import user_create


class Command(BaseCommand):
    help = (
        "Create a reviewer or lead (or give an existing user exactly this role), qualify them for locales, and print "
        "a new API token alone on the last line (shown once: only its digest is stored)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("name")
        parser.add_argument("--role", choices=[REVIEWER, LEAD], required=True)
        parser.add_argument("--locales", default="", help="Comma-separated BCP 47 codes, e.g. en-US,ja-JP")
        parser.add_argument("--password", default=None)

    def handle(self, *args, name: str, role: str, locales: str, password: str | None, **options) -> None:
        codes = [code.strip() for code in locales.split(",") if code.strip()]
        if password:
            try:
                validate_password(password, user=get_user_model()(username=name))  # unsaved: for similarity
            except ValidationError as exc:
                raise CommandError("password: " + " ".join(exc.messages)) from exc
        try:
            user = user_create(username=name, role=role, locales=codes, password=password)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        raw_key = api_token_create(user=user)
        self.stdout.write(f"{name}: {role}; new API token (copy it now, it is not shown again):")
        self.stdout.write(raw_key)
