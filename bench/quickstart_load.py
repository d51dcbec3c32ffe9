"""A team on the quick-start stack: N reviewers loop next → judgment over the API while a lead exports and the
dashboard refreshes; SQLite (what `make demo` runs) beside PostgreSQL.

    .venv/bin/python bench/quickstart_load.py [--reviewers 10] [--seconds 40] [--pairs 9000] [--exports 2]
        [--database-url postgres://postgres@127.0.0.1:5432/verdict_quickstart_bench] [--compare]

Each database is measured in a child process of its own, on the stack `scripts/demo.sh` starts: a fresh
VERDICT_DATA_DIR (a temporary folder: SQLite file, file cache, filesystem broker), `migrate`, `seed_demo`, then
`runserver` on a free 127.0.0.1 port with the settings' defaults. Before the server starts, the child adds campaign
"quickstart-load" through the import service (`--pairs` pairs: prompts of three candidates, every pair of them) and
N reviewers with API tokens through the user service. Each reviewer (an asyncio task, one keep-alive connection)
loops POST /api/v1/campaigns/<slug>/next → POST /api/v1/assignments/<id>/judgment with no pause, for `--seconds`.
Meanwhile, `--exports` times, spread over the run, lena exports the campaign (POST /api/v1/snapshots, inline below
EXPORT_INLINE_MAX_JUDGMENTS) and a warm process of its own runs the dashboard refresh (the Celery task's body,
`refresh_campaign_report`, as the demo's default worker would). With `--import-pairs`, lena also uploads that many
pairs (POST /api/v1/campaigns/<slug>-more/imports) beside the first export.

Prints per database: round trips/s (a round trip is next + judgment), p50/p95 of the round trip and of each call,
errors by kind (call, status, start of the message), judgments acknowledged (201) against judgments stored and
acknowledged ones missing, pairs over their overlap, how long the import of the pairs took (it holds the write lock
throughout: all-or-nothing), the export and refresh durations, and the load average (the machine is shared). Target
at 10 reviewers: 0 errors, 0 lost, 0 over overlap, round-trip p95 under 360 ms (10× below Label Studio's 3.6 s).
With `--compare`, SQLite and PostgreSQL (`--database-url`) run one after the other and print side by side.

Measured 2026-12-02 on the shared 2-core dev box, load average 7-14 from other jobs throughout (so every latency is
several times what an idle machine gives), `bench/quickstart_load.py --compare`, 10 reviewers, 40 s, 9,000 pairs,
two exports and two dashboard refreshes during the load:
                                 SQLite before   SQLite after   PostgreSQL
  round trips (per s)            76 (1.9)        822 (20.3)     261 (6.4; load 11-14)
  round trip p50 / p95, ms       943 / 1,790     427 / 985      1,435 / 2,594
  errors                         392 × 500 "database is locked"   0   0
  acknowledged = stored, over overlap: all equal, 0 over, in every run
"Before" is the rollback journal with deferred transactions (the settings before this bench). With
`--import-pairs 9000` (a 9,000-pair upload during the load; it took 6.7 s): 449 round trips, p95 1,708 ms, 0 errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.review_latency import free_port, wait_until_up  # noqa: E402  (needs the project root on sys.path)

SLUG = "quickstart-load"
LEAD = "lena"  # seed_demo's lead
CANDIDATES_PER_PROMPT = 3  # pairs="all": three pairs per prompt
LABEL_STUDIO_P95_MS = 3600.0
DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/verdict_quickstart_bench"


# --- child: one database -----------------------------------------------------------------------------------------


def api_token(username: str, role: str) -> str:
    """The user's API token, creating the user if needed: the one place that knows how tokens are made."""
    from annotate.services.tokens import api_token_create
    from annotate.services.users import user_create

    return api_token_create(user=user_create(username=username, role=role, locales=["en-US"]))


def import_rows(n_pairs: int) -> bytes:
    """JSONL for the import service: distinct prompts with three distinct candidates each."""
    lines = []
    for p in range(-(-n_pairs // CANDIDATES_PER_PROMPT)):
        candidates = [
            {"id": f"c{c}", "text": f"Answer {c} to question {p}: " + "some words " * (8 + c), "model": f"model-{c}"}
            for c in range(CANDIDATES_PER_PROMPT)
        ]
        lines.append(
            json.dumps({"id": f"q{p}", "locale": "en-US", "prompt": f"Question {p}?", "candidates": candidates})
        )
    return "\n".join(lines).encode()


def prepare(n_pairs: int, n_reviewers: int) -> dict:
    """Migrate and seed as `make demo` does, import the campaign, make the reviewers; returns tokens and timings."""
    from django.core.management import call_command
    from django.db import connections

    from annotate.services.importing import import_comparisons

    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)
    data = import_rows(n_pairs)
    started = time.perf_counter()
    result = import_comparisons(campaign_slug=SLUG, data=data)
    import_s = time.perf_counter() - started
    tokens = [api_token(f"quickstart-{i}", "reviewer") for i in range(n_reviewers)]
    lead_token = api_token(LEAD, "lead")
    connections.close_all()
    return {
        "campaign_id": result.campaign.pk,
        "pairs": result.comparisons_created,
        "import_s": import_s,
        "tokens": tokens,
        "lead_token": lead_token,
    }


def start_server(port: int, log: Path) -> subprocess.Popen:
    """`runserver` as scripts/demo.sh starts it (the environment already names the data folder and database)."""
    command = [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]
    with log.open("wb") as out:
        return subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)


def error_kind(call: str, response) -> str:
    """`call status message`: the exception's name for a debug page, else the start of the body."""
    text = response.text
    if "database is locked" in text:
        text = "database is locked"
    elif "<title>" in text:
        text = text.split("<title>", 1)[1].split("</title>", 1)[0]
    return f"{call} {response.status_code} {' '.join(text.split())[:60]}"


async def reviewer(client, token: str, stop_at: float, stats: dict) -> None:
    headers = {"Authorization": f"Token {token}"}
    while time.monotonic() < stop_at:
        started = time.perf_counter()
        try:
            response = await client.post(f"/api/v1/campaigns/{SLUG}/next", headers=headers)
        except Exception as exc:  # counted, never raised: the run goes on
            stats["errors"][f"next {type(exc).__name__}"] += 1
            continue
        next_done = time.perf_counter()
        stats["next_ms"].append((next_done - started) * 1000)
        if response.status_code == 204:
            return  # the campaign is done for this reviewer
        if response.status_code != 200:
            stats["errors"][error_kind("next", response)] += 1
            continue
        payload = {"choice": "left", "strength": "clear", "ratings": {}, "critique": "", "time_taken_ms": 1000}
        url = f"/api/v1/assignments/{response.json()['assignment']}/judgment"
        try:
            response = await client.post(url, json=payload, headers=headers)
        except Exception as exc:
            stats["errors"][f"judgment {type(exc).__name__}"] += 1
            continue
        finished = time.perf_counter()
        stats["judgment_ms"].append((finished - next_done) * 1000)
        if response.status_code != 201:
            stats["errors"][error_kind("judgment", response)] += 1
            continue
        stats["round_trip_ms"].append((finished - started) * 1000)
        stats["acknowledged"].add(response.json()["judgment"])


async def export(client, lead_token: str, stats: dict) -> None:
    started = time.perf_counter()
    body = {"campaigns": [SLUG], "policy": {}}
    response = await client.post("/api/v1/snapshots", json=body, headers={"Authorization": f"Token {lead_token}"})
    stats["export_s"].append(round(time.perf_counter() - started, 2))
    if response.status_code not in (201, 202):
        stats["errors"][error_kind("export", response)] += 1


def refresher() -> None:
    """A warm process standing in for the demo's default Celery worker: one dashboard refresh (the task's body) per
    campaign id read from stdin, answering `ok <seconds>` or `error <message>`."""
    import django

    django.setup()
    from annotate.quality.store import refresh_campaign_report

    print("ready", flush=True)
    for line in sys.stdin:
        started = time.perf_counter()
        try:
            refresh_campaign_report(campaign_id=int(line))
        except Exception as exc:  # reported to the bench, which counts it
            print(f"error {type(exc).__name__}: {exc}".replace("\n", " "), flush=True)
        else:
            print(f"ok {time.perf_counter() - started:.2f}", flush=True)


async def start_refresher() -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--refresher", cwd=ROOT, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
    )
    if (await process.stdout.readline()).strip() != b"ready":
        raise RuntimeError("the refresh process did not start")
    return process


async def refresh(worker: asyncio.subprocess.Process, campaign_id: int, stats: dict) -> None:
    worker.stdin.write(f"{campaign_id}\n".encode())
    await worker.stdin.drain()
    answer = (await worker.stdout.readline()).decode().strip()
    if answer.startswith("ok "):
        stats["refresh_s"].append(float(answer.split()[1]))
    else:
        stats["errors"][f"refresh {answer[:60]}"] += 1


async def upload(client, lead_token: str, n_pairs: int, stats: dict) -> None:
    """An import through the API into a campaign of its own: one transaction, reviewers wait for its write lock."""
    started = time.perf_counter()
    response = await client.post(
        f"/api/v1/campaigns/{SLUG}-more/imports",
        files={"file": ("more.jsonl", import_rows(n_pairs))},
        headers={"Authorization": f"Token {lead_token}"},
    )
    stats["import_during_s"].append(round(time.perf_counter() - started, 2))
    if response.status_code != 201:
        stats["errors"][error_kind("import", response)] += 1


async def side_work(client, worker, prepared: dict, args, started: float, stats: dict) -> None:
    """Export and dashboard refresh `args.exports` times, at even spacing inside the run; with `--import-pairs`, an
    import beside the first of them."""
    for index in range(args.exports):
        delay = started + args.seconds * (index + 1) / (args.exports + 1) - time.monotonic()
        await asyncio.sleep(max(0.0, delay))
        work = [export(client, prepared["lead_token"], stats), refresh(worker, prepared["campaign_id"], stats)]
        if index == 0 and args.import_pairs:
            work.append(upload(client, prepared["lead_token"], args.import_pairs, stats))
        await asyncio.gather(*work)


async def load(base: str, prepared: dict, args) -> dict:
    import httpx

    stats = {
        "errors": Counter(),
        "acknowledged": set(),
        **{key: [] for key in ("next_ms", "judgment_ms", "round_trip_ms", "export_s", "refresh_s", "import_during_s")},
    }
    limits = httpx.Limits(max_connections=len(prepared["tokens"]) + 2)
    await wait_until_up(base)
    worker = await start_refresher()
    try:
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60.0) as client:
            started = time.monotonic()
            stop_at = started + args.seconds
            reviewers = asyncio.gather(*(reviewer(client, token, stop_at, stats) for token in prepared["tokens"]))
            side = asyncio.ensure_future(side_work(client, worker, prepared, args, started, stats))
            await reviewers
            stats["elapsed_s"] = time.monotonic() - started
            await side
    finally:
        worker.stdin.close()
        await worker.wait()
    return stats


def stored(campaign_id: int, acknowledged: set[int]) -> dict:
    from django.db.models import Count, F

    from annotate.models import Comparison, Judgment

    judgments = Judgment.objects.filter(
        comparison__campaign_id=campaign_id, reviewer__username__startswith="quickstart-"
    )
    ids = set(judgments.values_list("id", flat=True))
    over = (
        Comparison.objects.filter(campaign_id=campaign_id)
        .annotate(n=Count("judgments"))
        .filter(n__gt=F("campaign__overlap"))
        .count()
    )
    return {"stored": len(ids), "lost": len(acknowledged - ids), "over_overlap": over}


def percentile(values: list[float], cut: int) -> float | None:
    if len(values) < 2:
        return None
    return statistics.quantiles(values, n=100, method="inclusive")[cut - 1]


def measure(args) -> dict:
    """Run the whole measurement for the database in DATABASE_URL (none: SQLite) and return the figures."""
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    prepared = prepare(args.pairs, args.reviewers)
    port = free_port()
    log = Path(settings.DATA_DIR) / "runserver.log"
    load_before = os.getloadavg()
    server = start_server(port, log)
    try:
        stats = asyncio.run(load(f"http://127.0.0.1:{port}", prepared, args))
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    load_after = os.getloadavg()
    if stats["errors"]:  # the server's own account of what went wrong, before its folder is removed
        text = log.read_text(errors="replace")
        print(text[max(0, text.find("Traceback")) :][:6000], file=sys.stderr)
    trips = stats["round_trip_ms"]
    return {
        "database": connection.vendor,
        "reviewers": args.reviewers,
        "seconds": round(stats["elapsed_s"], 1),
        "pairs": prepared["pairs"],
        "import_s": round(prepared["import_s"], 2),
        "round_trips": len(trips),
        "round_trips_per_s": round(len(trips) / stats["elapsed_s"], 1),
        **{
            f"{name}_p{cut}_ms": round(value, 1) if (value := percentile(stats[f"{name}_ms"], cut)) else None
            for name in ("round_trip", "next", "judgment")
            for cut in (50, 95)
        },
        "errors": dict(stats["errors"].most_common()),
        "acknowledged": len(stats["acknowledged"]),
        **stored(prepared["campaign_id"], stats["acknowledged"]),
        "export_s": stats["export_s"],
        "refresh_s": stats["refresh_s"],
        "import_during_s": stats["import_during_s"],
        "load_average": [round(load_before[0], 1), round(load_after[0], 1)],
        "cpus": os.cpu_count(),
    }


# --- parent: one child per database, figures side by side -------------------------------------------------------


def run_child(database_url: str | None, args) -> dict:
    """Measure in a fresh process: settings are read once per process, and each database wants its own."""
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "CELERY_BROKER_URL")}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    with tempfile.TemporaryDirectory(prefix="verdict-quickstart-") as folder:
        env["VERDICT_DATA_DIR"] = folder
        if database_url:
            from bench._postgres import require_bench_database

            os.environ["DATABASE_URL"] = env["DATABASE_URL"] = database_url
            require_bench_database(database_url.rsplit("/", 1)[1], fresh=True)
        command = [sys.executable, __file__, "--child", *sys.argv[1:]]
        output = subprocess.run(command, env=env, cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


ROWS = (
    ("reviewers", "reviewers"),
    ("seconds", "seconds of load"),
    ("pairs", "pairs in the campaign"),
    ("import_s", "import of the pairs, s (one transaction)"),
    ("round_trips", "round trips (next + judgment)"),
    ("round_trips_per_s", "round trips/s"),
    ("round_trip_p50_ms", "round trip p50, ms"),
    ("round_trip_p95_ms", "round trip p95, ms"),
    ("next_p95_ms", "next p95, ms"),
    ("judgment_p95_ms", "judgment p95, ms"),
    ("error_count", "errors"),
    ("acknowledged", "judgments acknowledged (201)"),
    ("stored", "judgments stored"),
    ("lost", "acknowledged but not stored"),
    ("over_overlap", "pairs over overlap"),
    ("export_s", "exports during the load, s"),
    ("refresh_s", "dashboard refreshes during the load, s"),
    ("import_during_s", "import during the load (--import-pairs), s"),
    ("load_average", "load average before, after"),
)


def report(results: list[dict]) -> None:
    width = max(len(label) for _, label in ROWS) + 2
    print(f"{'':<{width}}" + "".join(f"{r['database']:>22}" for r in results))
    for key, label in ROWS:
        cells = []
        for result in results:
            value = sum(result["errors"].values()) if key == "error_count" else result[key]
            cells.append(", ".join(map(str, value)) if isinstance(value, list) else str(value))
        print(f"{label:<{width}}" + "".join(f"{cell:>22}" for cell in cells))
    for result in results:
        for kind, count in result["errors"].items():
            print(f"  {result['database']}: {count} × {kind}")
    print(f"target: 0 errors, 0 lost, 0 over overlap, round trip p95 < {LABEL_STUDIO_P95_MS / 10:.0f} ms "
          f"(Label Studio's quick-start: p95 {LABEL_STUDIO_P95_MS / 1000:.1f} s); {results[0]['cpus']} CPUs")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reviewers", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=40.0, help="seconds of load")
    parser.add_argument("--pairs", type=int, default=9000)
    parser.add_argument("--exports", type=int, default=2, help="exports and dashboard refreshes during the load")
    parser.add_argument("--import-pairs", type=int, default=0, help="also import this many pairs during the load")
    parser.add_argument("--database-url", help="a PostgreSQL database of its own (dropped and created again)")
    parser.add_argument("--compare", action="store_true", help="SQLite, then PostgreSQL (--database-url or default)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--refresher", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.refresher:
        refresher()
        return
    if args.child:
        print(json.dumps(measure(args)))
        return
    if args.compare:
        urls = [None, args.database_url or DEFAULT_POSTGRES]
    else:
        urls = [args.database_url]
    report([run_child(url, args) for url in urls])


if __name__ == "__main__":
    main()
