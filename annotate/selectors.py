"""Reads shared by pages and the API."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from annotate.models import Campaign, DatasetSnapshot


def campaigns_for_reviewer(*, reviewer: AbstractBaseUser) -> QuerySet[Campaign]:
    """Active campaigns with at least one locale the reviewer is qualified for."""
    return (
        Campaign.objects.filter(status=Campaign.Status.ACTIVE, locales__qualifications__reviewer=reviewer)
        .select_related("rubric")
        .distinct()
        .order_by("slug")
    )


# Dataset snapshots: what the training app reads. Files are listed in the manifest; anything else is not served.
SNAPSHOT_FILE_NAMES = ("train.jsonl", "test.jsonl", "ties.jsonl", "excluded.jsonl", "manifest.json")


def snapshot_list() -> QuerySet[DatasetSnapshot]:
    """Every snapshot, newest version first."""
    return DatasetSnapshot.objects.select_related("created_by").prefetch_related("campaigns").order_by("-version")


def snapshot_get(*, snapshot_id: int) -> DatasetSnapshot:
    """One snapshot; raises DatasetSnapshot.DoesNotExist."""
    return snapshot_list().get(id=snapshot_id)


def snapshot_file_path(*, snapshot: DatasetSnapshot, name: str) -> Path:
    """Where one of the snapshot's files lies; raises FileNotFoundError for a name that is not one of them."""
    if name not in SNAPSHOT_FILE_NAMES:
        raise FileNotFoundError(f"{name}: not a snapshot file (one of {', '.join(SNAPSHOT_FILE_NAMES)})")
    path = Path(snapshot.path) / name
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing from snapshot v{snapshot.version}")
    return path


def snapshot_mean_agreement(*, snapshot: DatasetSnapshot) -> float:
    """The mean majority share over the snapshot's exported pairs (train, test and ties); 0.0 when none."""
    return float(snapshot.manifest.get("counts", {}).get("mean_agreement", 0.0))
