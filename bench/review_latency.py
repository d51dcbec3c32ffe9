"""Reviewer API latency under load: N simulated reviewers loop next → judgment against gunicorn on PostgreSQL.

    .venv/bin/python bench/review_latency.py [--reviewers 50] [--duration 30] [--max-per-reviewer 200]
        [--think-ms 100] [--workers 3] [--database-url postgres://postgres@127.0.0.1:5432/verdict_review_bench]
        [--reset]

The database (its own, `verdict_review_bench` by default) is created and migrated if needed, then filled once by
COPY with campaign "bench-review": 20,000 prompts × 5 candidates, 100,000 comparisons (500 of them gold) and 300,000
historical judgments (1–5 per pair, mean 3; overlap 5, so a fifth of the pairs are full) from 100 past reviewers.
Later runs reuse it; each run first deletes what the previous run's bench reviewers did (and restores `taken`).

Gunicorn (`--workers` sync workers, persistent DB connections) serves the app on a free port with an access log of
each request's duration; N asyncio tasks with httpx, each a reviewer with an API token, loop POST next → POST
judgment until the queue is empty, `--max-per-reviewer` judgments, or `--duration` seconds, pausing `--think-ms`
(±50%, after a random start) between calls. Prints p50/p95/p99 of the server's time per call (gunicorn's %(D)s:
from request read to response written, no client or listen-queue time) beside the client's round trip, the
errors, and the machine's load average (the figures mean little on a box busy with other work). The target is
server p95 < 50 ms with zero errors.

Measured 2026-11-22 on the shared 2-core dev box, 100k pairs / 300k judgments, 0 errors throughout; runs of the code
before and after the `next` trim interleaved (load average 1.2-1.8 from other jobs):
  --reviewers 50 --think-ms 1000, before:  next p50/p95/p99 23-25/45-49/58-80 ms, judgment 14-15/28-30/34-40 ms
  --reviewers 50 --think-ms 1000, after:   next p50/p95/p99 19-23/41-42/51-57 ms, judgment 12-14/26-27/34-39 ms
  --reviewers 50 --think-ms 500 (40 judgments/s): next p95 48-54 ms, judgment p95 31-38 ms, before and after alike
`next` is 10 queries (was 11, 12 on PostgreSQL); most of what is left is the ORM building and compiling queries
(the claim alone about 2 ms of CPU) and PostgreSQL planning the claim (1.5-2.5 ms). With 50 reviewers the two cores are
shared by the clients, three workers and PostgreSQL, so the p95 swings with whatever else runs on the box.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from bench._postgres import require_bench_database  # noqa: E402  (needs the project root on sys.path)

SLUG = "bench-review"
PROMPTS, CANDIDATES_PER_PROMPT, GOLD = 20_000, 5, 500
HISTORY_REVIEWERS, OVERLAP = 100, 5
JUDGMENTS_PER_PAIR = (1, 5, 2, 4, 3)  # cycled over pairs: mean 3 → 300,000 judgments for 100,000 pairs
TARGET_P95_MS = 50.0


def _copy(cursor, table: str, columns: list[str], rows) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def fill() -> None:
    """Load the campaign with COPY (about a minute on two shared cores); ids are assigned here, sequences reset."""
    from django.contrib.auth.models import Group
    from django.db import connection, transaction

    from annotate.models import Campaign, Locale, Rubric

    rng = random.Random(7)
    now = datetime.now(UTC)
    past = now - timedelta(days=3)
    with transaction.atomic():
        locale = Locale.objects.get_or_create(code="en-US")[0]
        rubric = Rubric.objects.create(
            slug=SLUG,
            title="Bench rubric",
            guidelines="Pick the better answer.",
            criteria=[{"key": "overall", "label": "Overall", "description": "Overall quality", "scale": 5}],
        )
        campaign = Campaign.objects.create(
            slug=SLUG, name="Bench review", rubric=rubric, overlap=OVERLAP, gold_rate=0.02, lease_minutes=30
        )
        campaign.locales.add(locale)
        reviewer_group = Group.objects.get(name="reviewer")
        cursor = connection.cursor().cursor  # psycopg's own cursor, for COPY
        first_user = _next_id(cursor, "auth_user")
        history = list(range(first_user, first_user + HISTORY_REVIEWERS))
        _copy(
            cursor,
            "auth_user",
            [
                "id",
                "password",
                "is_superuser",
                "username",
                "first_name",
                "last_name",
                "email",
                "is_staff",
                "is_active",
                "date_joined",
            ],
            ((uid, "!", False, f"bench-history-{i}", "", "", "", False, True, past) for i, uid in enumerate(history)),
        )
        _copy(cursor, "auth_user_groups", ["user_id", "group_id"], ((uid, reviewer_group.pk) for uid in history))
        _copy(
            cursor,
            "annotate_qualification",
            ["reviewer_id", "locale_id", "granted_at"],
            ((uid, locale.pk, past) for uid in history),
        )

        prompt0, candidate0 = _next_id(cursor, "annotate_prompt"), _next_id(cursor, "annotate_candidate")
        _copy(
            cursor,
            "annotate_prompt",
            ["id", "campaign_id", "external_id", "locale_id", "text", "tags", "source", "created_at"],
            (
                (
                    prompt0 + p,
                    campaign.pk,
                    f"p{p}",
                    locale.pk,
                    f"Bench question {p}: explain topic {p % 97}.",
                    '{"scenario": "bench"}',
                    '{"file": "bench"}',
                    past,
                )
                for p in range(PROMPTS)
            ),
        )
        _copy(
            cursor,
            "annotate_candidate",
            ["id", "prompt_id", "external_id", "text", "model_name", "model_version", "meta"],
            (
                (
                    candidate0 + p * CANDIDATES_PER_PROMPT + c,
                    prompt0 + p,
                    f"c{c}",
                    f"Answer {c} to question {p}. " * 8,
                    f"model-{c}",
                    "v1",
                    "{}",
                )
                for p in range(PROMPTS)
                for c in range(CANDIDATES_PER_PROMPT)
            ),
        )
        comparisons = []  # (id, prompt, a, b, gold, judgments)
        comparison0 = _next_id(cursor, "annotate_comparison")
        for p in range(PROMPTS):
            for c in range(CANDIDATES_PER_PROMPT):  # a ring: (0,1) (1,2) (2,3) (3,4) (4,0)
                index = len(comparisons)
                a = candidate0 + p * CANDIDATES_PER_PROMPT + c
                b = candidate0 + p * CANDIDATES_PER_PROMPT + (c + 1) % CANDIDATES_PER_PROMPT
                gold = "a" if index % (PROMPTS * CANDIDATES_PER_PROMPT // GOLD) == 0 else ""
                comparisons.append((comparison0 + index, prompt0 + p, a, b, gold, JUDGMENTS_PER_PAIR[index % 5]))
        _copy(
            cursor,
            "annotate_comparison",
            [
                "id",
                "campaign_id",
                "prompt_id",
                "candidate_a_id",
                "candidate_b_id",
                "gold_outcome",
                "created_at",
                "taken",
                "tiebreak",
            ],
            (
                (cid, campaign.pk, pid, a, b, gold, past, k, rng.randrange(2**31 - 1))
                for cid, pid, a, b, gold, k in comparisons
            ),
        )
        assignment0, judgment0 = _next_id(cursor, "annotate_assignment"), _next_id(cursor, "annotate_judgment")
        slots = [(cid, reviewer, gold) for cid, _, _, _, gold, k in comparisons for reviewer in rng.sample(history, k)]
        _copy(
            cursor,
            "annotate_assignment",
            ["id", "reviewer_id", "comparison_id", "a_on_left", "state", "leased_at", "expires_at", "submitted_at"],
            (
                (assignment0 + i, reviewer, cid, i % 2 == 0, "submitted", past, past + timedelta(minutes=30), past)
                for i, (cid, reviewer, _) in enumerate(slots)
            ),
        )
        outcomes = ["a", "b", "tie", "a", "b"]
        _copy(
            cursor,
            "annotate_judgment",
            [
                "id",
                "assignment_id",
                "comparison_id",
                "reviewer_id",
                "outcome",
                "strength",
                "ratings",
                "critique",
                "time_taken_ms",
                "gold_correct",
                "created_at",
            ],
            (
                (
                    judgment0 + i,
                    assignment0 + i,
                    cid,
                    reviewer,
                    outcomes[i % 5],
                    "clear" if outcomes[i % 5] in ("a", "b") else "",
                    '{"a": {"overall": 4}, "b": {"overall": 3}}',
                    "",
                    20_000 + i % 5000,
                    (outcomes[i % 5] == "a") if gold else None,
                    past,
                )
                for i, (cid, reviewer, gold) in enumerate(slots)
            ),
        )
        for table in (
            "auth_user",
            "annotate_prompt",
            "annotate_candidate",
            "annotate_comparison",
            "annotate_assignment",
            "annotate_judgment",
        ):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    with connection.cursor() as plain:
        plain.execute("ANALYZE")
    print(f"loaded {len(comparisons):,} comparisons and {len(slots):,} judgments", flush=True)


def _next_id(cursor, table: str) -> int:
    cursor.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")
    return cursor.fetchone()[0]


def prepare_reviewers(n: int) -> list[str]:
    """Bench reviewers with tokens, their earlier runs' work removed and the pool counts restored."""
    from django.contrib.auth.models import Group, User
    from django.db import connection, transaction

    from annotate.models import Assignment, Locale, Qualification
    from annotate.services.tokens import api_token_create

    with transaction.atomic():
        group, locale = Group.objects.get(name="reviewer"), Locale.objects.get(code="en-US")
        users = []
        for i in range(n):
            user, created = User.objects.get_or_create(username=f"bench-live-{i}")
            if created:
                user.groups.add(group)
                Qualification.objects.create(reviewer=user, locale=locale)
            users.append(user)
        touched = list(Assignment.objects.filter(reviewer__in=users).values_list("comparison_id", flat=True).distinct())
        Assignment.objects.filter(reviewer__in=users).delete()  # judgments go with them (cascade)
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE annotate_comparison c SET taken = (SELECT count(*) FROM annotate_assignment a "
                "WHERE a.comparison_id = c.id AND a.state IN ('leased', 'submitted')) WHERE c.id = ANY(%s)",
                [touched],
            )
        return [api_token_create(user=user) for user in users]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(database_url: str, workers: int, port: int, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_hex(32),
        "DB_CONN_MAX_AGE": "600",
        "LOG_LEVEL": "ERROR",
    }
    command = [
        sys.executable, "-m", "gunicorn", "config.wsgi:application",
        "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
        "--access-logfile", str(log), "--access-logformat", "%(m)s %(U)s %(s)s %(D)s",
    ]  # fmt: skip
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


async def wait_until_up(base: str, timeout: float = 30.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                await client.get(f"{base}/accounts/login/")
                return
            except httpx.TransportError:
                await asyncio.sleep(0.2)
    raise RuntimeError(f"the server did not answer within {timeout:.0f} s")


def think(args) -> float:
    """A pause of think-ms on average, spread ±50% so that reviewers drift apart instead of moving in waves."""
    return args.think_ms / 1000 * random.uniform(0.5, 1.5)


async def reviewer_loop(client, token: str, args, stop_at: float, timings: dict, errors: list) -> int:
    headers = {"Authorization": f"Token {token}"}
    done = 0
    await asyncio.sleep(random.uniform(0, 2 * args.think_ms / 1000))  # reviewers do not all start at once
    while done < args.max_per_reviewer and time.monotonic() < stop_at:
        started = time.perf_counter()
        response = await client.post(f"/api/v1/campaigns/{SLUG}/next", headers=headers)
        timings["next"].append((time.perf_counter() - started) * 1000)
        if response.status_code == 204:
            break
        if response.status_code != 200:
            errors.append(f"next {response.status_code} {response.text[:120]}")
            break
        assignment = response.json()["assignment"]
        await asyncio.sleep(think(args))
        choice = random.choice(["left", "right", "tie"])
        payload = {
            "choice": choice,
            "strength": "clear" if choice != "tie" else "",
            "ratings": {"left": {"overall": random.randint(1, 5)}, "right": {"overall": random.randint(1, 5)}},
            "critique": "",
            "time_taken_ms": args.think_ms,
        }
        started = time.perf_counter()
        response = await client.post(f"/api/v1/assignments/{assignment}/judgment", json=payload, headers=headers)
        timings["judgment"].append((time.perf_counter() - started) * 1000)
        if response.status_code != 201:
            errors.append(f"judgment {response.status_code} {response.text[:120]}")
            continue
        done += 1
        await asyncio.sleep(think(args))
    return done


async def run_clients(base: str, tokens: list[str], args) -> tuple[dict, list, int, float]:
    import httpx

    timings: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    limits = httpx.Limits(max_connections=len(tokens), max_keepalive_connections=len(tokens))
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30.0) as client:
        started = time.monotonic()
        stop_at = started + args.duration
        done = await asyncio.gather(
            *(reviewer_loop(client, token, args, stop_at, timings, errors) for token in tokens),
            return_exceptions=True,
        )
        elapsed = time.monotonic() - started
    errors += [f"client {type(d).__name__}: {d}" for d in done if isinstance(d, BaseException)]
    return timings, errors, sum(d for d in done if isinstance(d, int)), elapsed


def server_timings(log: Path) -> tuple[dict[str, list[float]], int]:
    timings: dict[str, list[float]] = defaultdict(list)
    server_errors = 0
    for line in log.read_text().splitlines():
        parts = line.split()
        if len(parts) != 4 or parts[0] != "POST":
            continue
        _, url, status, micros = parts
        kind = "next" if url.endswith("/next") else "judgment" if url.endswith("/judgment") else None
        if kind:
            timings[kind].append(int(micros) / 1000)
            server_errors += int(status) >= 500
    return timings, server_errors


def percentiles(values: list[float]) -> str:
    if len(values) < 2:
        return "n/a"
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return f"{statistics.median(values):7.1f} {cuts[94]:7.1f} {cuts[98]:7.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reviewers", type=int, default=50)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of load at most")
    parser.add_argument("--max-per-reviewer", type=int, default=200)
    parser.add_argument("--think-ms", type=int, default=100, help="mean pause after each call (±50%%)")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/verdict_review_bench"),
    )
    parser.add_argument("--reset", action="store_true", help="drop the bench campaign's data and load it again")
    args = parser.parse_args()

    os.environ["DATABASE_URL"] = args.database_url
    require_bench_database("verdict_review_bench")
    import django

    django.setup()
    from django.core.management import call_command

    from annotate.models import Campaign

    call_command("migrate", verbosity=0)
    if args.reset:
        Campaign.objects.filter(slug=SLUG).delete()
    if not Campaign.objects.filter(slug=SLUG).exists():
        started = time.monotonic()
        fill()
        print(f"fill took {time.monotonic() - started:.0f} s", flush=True)
    tokens = prepare_reviewers(args.reviewers)
    from django.db import connections

    connections.close_all()

    load_before = os.getloadavg()[0]
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "access.log"
        server = start_gunicorn(args.database_url, args.workers, port, log)
        try:
            base = f"http://127.0.0.1:{port}"
            asyncio.run(wait_until_up(base))
            client, errors, judged, elapsed = asyncio.run(run_clients(base, tokens, args))
        finally:
            server.send_signal(signal.SIGTERM)
            _, stderr = server.communicate(timeout=30)
        server, server_errors = server_timings(log)

    print(f"\n{args.reviewers} reviewers, {args.workers} gunicorn workers, think {args.think_ms} ms: "
          f"{judged:,} judgments in {elapsed:.1f} s ({judged / elapsed:.0f}/s); "
          f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after on {os.cpu_count()} CPUs")  # fmt: skip
    print(f"{'call':<10} {'n':>6}   server p50/p95/p99 ms   client p50/p95/p99 ms   target server p95")
    for kind in ("next", "judgment"):
        print(f"{kind:<10} {len(server[kind]):>6}   {percentiles(server[kind]):>23}   "
              f"{percentiles(client[kind]):>23}   < {TARGET_P95_MS:.0f} ms")  # fmt: skip
    print(f"errors: {len(errors)} (HTTP 5xx in the server log: {server_errors})")
    for error in errors[:10]:
        print("  ", error)
    if server_errors and stderr:
        print(stderr.decode()[-2000:])


if __name__ == "__main__":
    main()
