from __future__ import annotations

from django.core.management.base import BaseCommand

from annotate.services.demo import DEMO_PASSWORD, DEMO_USERS, seed_demo


class Command(BaseCommand):
    help = "Seed the demo campaign and the demo people (idempotent)."

    def handle(self, *args, **options) -> None:
        campaign = seed_demo()
        self.stdout.write(f"Demo campaign '{campaign.slug}': {campaign.comparisons.count()} comparisons.")
        for username, role in DEMO_USERS:
            self.stdout.write(f"  {role:<8} {username} / {DEMO_PASSWORD}")
