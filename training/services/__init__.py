"""Writes for training, one module per concern: base models, launch, a run's lifecycle, model jobs (jobs.py and one
module per kind: generation, judge, margins), artifacts."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Transition:
    """One allowed move of a run or job: from any of `sources` to `target` (see lifecycle.py, jobs.py)."""

    sources: tuple[str, ...]
    target: str


class RunRejected(Exception):
    """A launch or action a user asked for that cannot happen; `errors` are messages they can act on."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        super().__init__("; ".join(self.errors))


class JobRejected(Exception):
    """A job that cannot be created or acted on; `errors` maps each field to messages a user can act on."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(f"{key}: {m}" for key, messages in errors.items() for m in messages))


class GenerationRejected(JobRejected):
    """A generation job (or the prompts or models chosen for one) that cannot be created or acted on."""
