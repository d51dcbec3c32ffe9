"""Quality dashboard freshness stamp: a per-campaign counter that PostgreSQL bumps whenever judgments change.

The dashboard caches a campaign's report until a judgment arrives or leaves. Counting a million judgments to find
out costs ~0.4 s, so statement-level triggers keep ``quality_judgment_stamp.version`` (one row per campaign) moving
instead, in the same transaction as the change: bulk inserts, deletes (cascades included) and raw SQL are all seen.
Every insert adds one, so the version is also an upper bound of the campaign's judgment count.
The table has no Django model on purpose (annotate/quality/store.py reads it with one indexed query), so makemigrations
never touches it. SQLite keeps no triggers: a table rebuild by a later migration would drop them silently, so
there the dashboard counts judgments instead (fine at development sizes).
"""

from django.db import migrations

CREATE = """
CREATE TABLE quality_judgment_stamp (
    campaign_id bigint PRIMARY KEY,
    version bigint NOT NULL
);
CREATE FUNCTION quality_bump_judgment_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- One upsert per statement and campaign; campaigns in id order so concurrent multi-campaign deletes
    -- take the stamp rows' locks in the same order (no deadlock).
    INSERT INTO quality_judgment_stamp AS stamp (campaign_id, version)
    SELECT comparison.campaign_id, count(*)
    FROM changed JOIN annotate_comparison AS comparison ON comparison.id = changed.comparison_id
    GROUP BY comparison.campaign_id
    ORDER BY comparison.campaign_id
    ON CONFLICT (campaign_id) DO UPDATE SET version = stamp.version + EXCLUDED.version;
    RETURN NULL;
END
$$;
-- Start from the judgments already there, so a version is never below the campaign's judgment count.
INSERT INTO quality_judgment_stamp (campaign_id, version)
SELECT comparison.campaign_id, count(*)
FROM annotate_judgment AS judgment JOIN annotate_comparison AS comparison ON comparison.id = judgment.comparison_id
GROUP BY comparison.campaign_id;
CREATE TRIGGER quality_stamp_insert AFTER INSERT ON annotate_judgment
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION quality_bump_judgment_stamp();
CREATE TRIGGER quality_stamp_update AFTER UPDATE ON annotate_judgment
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION quality_bump_judgment_stamp();
CREATE TRIGGER quality_stamp_delete AFTER DELETE ON annotate_judgment
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION quality_bump_judgment_stamp();
"""

DROP = """
DROP TRIGGER IF EXISTS quality_stamp_insert ON annotate_judgment;
DROP TRIGGER IF EXISTS quality_stamp_update ON annotate_judgment;
DROP TRIGGER IF EXISTS quality_stamp_delete ON annotate_judgment;
DROP FUNCTION IF EXISTS quality_bump_judgment_stamp();
DROP TABLE IF EXISTS quality_judgment_stamp;
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("annotate", "0003_review_assignment_pool"),
    ]

    operations = [migrations.RunPython(create, drop)]
