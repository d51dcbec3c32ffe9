"""Training runs: registered base models, runs launched on a dataset snapshot, and their per-step metrics."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

User = settings.AUTH_USER_MODEL


class BaseModel(models.Model):
    """A local transformers model folder under one of VERDICT_MODEL_DIRS: the only thing runs may train on."""

    name = models.CharField(max_length=200, unique=True)
    path = models.CharField(max_length=1000, unique=True)
    revision = models.CharField(max_length=64, help_text="SHA-256 of config.json and the weight files' names/sizes")
    parameter_count = models.BigIntegerField(default=0)
    has_chat_template = models.BooleanField(default=False)
    registered_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class JobStatus(models.TextChoices):
    """One status vocabulary for runs and model jobs; runs move by lifecycle.py's table, jobs by jobs.py's."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class QueuedWork(models.Model):
    """What runs and model jobs share: a status moved only by a transition table (services/lifecycle.py for runs,
    services/jobs.py for jobs), a cancel request, the worker that claimed it last, its Celery task and timestamps. A
    subclass names its progress counters in `PROGRESS` (done, total).
    """

    Status = JobStatus
    ACTIVE = (Status.QUEUED, Status.RUNNING)
    PROGRESS: tuple[str, str]

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    cancel_requested = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    worker = models.CharField(max_length=200, blank=True, help_text="The hostname of the worker that claimed it last")
    celery_task_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} #{self.pk} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def percent(self) -> int:
        if self.status == self.Status.SUCCEEDED:
            return 100
        done, total = (getattr(self, name) for name in self.PROGRESS)
        return int(100 * done / total) if total else 0


class TrainingRun(QueuedWork):
    PROGRESS = ("step", "total_steps")

    snapshot = models.ForeignKey("annotate.DatasetSnapshot", on_delete=models.PROTECT, related_name="+")
    base_model = models.ForeignKey(BaseModel, on_delete=models.PROTECT, related_name="runs")
    parent_run = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="child_runs",
        help_text="The earlier run whose adapter this one starts from (the previous on-policy round)",
    )
    preset = models.CharField(max_length=40, blank=True)
    name = models.CharField(max_length=200, blank=True, help_text="A short label the team reads in lists")
    notes = models.TextField(blank=True, help_text="Why this run exists, what it tries")
    config = models.JSONField(help_text="The resolved engine config, exactly as the engine receives it")
    data_files = models.JSONField(default=dict, help_text='{"train": path, "test": path, "ties": path}')
    lineage = models.JSONField(default=dict, help_text="Snapshot manifest hash, base model revision, code version")
    step = models.PositiveIntegerField(default=0)
    total_steps = models.PositiveIntegerField(default=0)
    eta_seconds = models.FloatField(null=True, blank=True)
    pairs_per_second = models.FloatField(null=True, blank=True)
    latest_metrics = models.JSONField(default=dict, blank=True)
    checkpoint_step = models.PositiveIntegerField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempt = models.PositiveIntegerField(
        default=0, help_text="Counted up by each claim; a worker writes only while its attempt is the current one"
    )
    resume = models.BooleanField(default=False, help_text="Continue from the last checkpoint when next executed")
    log = models.TextField(blank=True, help_text="The last lines the run reported")
    output_dir = models.CharField(max_length=1000)
    eval_report = models.JSONField(null=True, blank=True)
    launched_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta(QueuedWork.Meta):
        indexes = [models.Index(fields=["status", "heartbeat_at"])]

    def __str__(self) -> str:
        return f"run #{self.pk} ({self.status})"


class TrainingWorker(models.Model):
    """A Celery worker serving the training queue, as it announced itself; it beats `last_seen_at` while alive."""

    class Device(models.TextChoices):
        CPU = "cpu"
        CUDA = "cuda"

    name = models.CharField(max_length=200, unique=True, help_text="The Celery hostname, e.g. training@gpu-box")
    device = models.CharField(max_length=10, choices=Device.choices, default=Device.CPU)
    device_name = models.CharField(max_length=200, blank=True, help_text="The GPU model, or the CPU's description")
    memory_bytes = models.BigIntegerField(null=True, blank=True, help_text="GPU memory, or RAM for a CPU worker")
    started_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    stopped_at = models.DateTimeField(null=True, blank=True, help_text="Set by a clean shutdown")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RunMetric(models.Model):
    """One logged optimizer step: the engine's metrics dict, TRL names (`loss`, `rewards/margins`, `eval/...`)."""

    run = models.ForeignKey(TrainingRun, on_delete=models.CASCADE, related_name="metric_rows")
    step = models.PositiveIntegerField()
    metrics = models.JSONField()

    class Meta:
        ordering = ["run", "step"]
        constraints = [models.UniqueConstraint(fields=["run", "step"], name="unique_run_metric_step")]

    def __str__(self) -> str:
        return f"run #{self.run_id} step {self.step}"


class ModelJob(QueuedWork):
    """A job that runs a model on a training worker (generation, judge, margins), at a lead's request."""

    requested_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta(QueuedWork.Meta):
        abstract = True


class GenerationJob(ModelJob):
    """Candidates sampled from pinned models for a campaign's prompts (or uploaded ones), imported as pairs.

    Everything the worker needs is fixed at creation: the prompts (copied to `prompts_file`), each model's folder and
    digest (`models`), the sampling settings. The import at the end is one transaction with the job's success.
    """

    PROGRESS = ("sequences_done", "sequences_total")

    name = models.CharField(max_length=200, blank=True)
    source = models.JSONField(default=dict, help_text='Where the prompts came from: {"campaign": slug, "locale", ...}')
    source_campaign = models.ForeignKey(
        "annotate.Campaign", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source_run = models.ForeignKey(
        TrainingRun,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="generation_jobs",
        help_text="The run this job is the next round of",
    )
    prompts_file = models.CharField(max_length=1000)
    prompt_count = models.PositiveIntegerField(default=0)
    pinned_models = models.JSONField(
        default=list, help_text="[{kind, name, version, model_dir, adapter_dir, base_model_id, run_id}], pinned"
    )
    settings = models.JSONField(default=dict, help_text="samples, temperature, top_p, max_new_tokens, seed")
    pairs = models.CharField(max_length=20, default="across-models")
    target_slug = models.SlugField(max_length=100)
    target_campaign = models.ForeignKey(
        "annotate.Campaign", null=True, blank=True, on_delete=models.SET_NULL, related_name="generation_jobs"
    )
    sequences_done = models.PositiveIntegerField(default=0)
    sequences_total = models.PositiveIntegerField(default=0)
    current_model = models.CharField(max_length=200, blank=True)
    result = models.JSONField(default=dict, blank=True, help_text="prompts, candidates and comparisons created")
    output_dir = models.CharField(max_length=1000)


class JudgeJob(ModelJob):
    """A pinned model judging a campaign's pairs in both orders; its verdicts are stored as AI judgments.

    The model is pinned at creation like a generation job's (`pinned_model`); the judge's identity (model, version,
    digest of the judge prompt) is fixed then too, so a job run again finds the pairs it already judged.
    """

    PROGRESS = ("pairs_done", "pairs_total")

    pinned_model = models.JSONField(
        default=dict, help_text="{kind, name, revision, model_dir, adapter_dir, base_model_id, run_id, chat}"
    )
    judge = models.JSONField(default=dict, help_text='The judge\'s identity: {"model", "version", "prompt_sha256"}')
    campaign = models.ForeignKey("annotate.Campaign", on_delete=models.CASCADE, related_name="+")
    limit = models.PositiveIntegerField(null=True, blank=True, help_text="Judge only the campaign's first N pairs")
    pairs_done = models.PositiveIntegerField(default=0)
    pairs_total = models.PositiveIntegerField(default=0)
    judged = models.PositiveIntegerField(default=0, help_text="Pairs with a verdict in both orders, stored")
    flips = models.PositiveIntegerField(default=0, help_text="Judged pairs whose verdict changed with the order")
    unparseable = models.PositiveIntegerField(default=0, help_text="Pairs with an answer out of format: no judgment")
    skipped = models.PositiveIntegerField(default=0, help_text="Pairs this judge had already judged")
    result = models.JSONField(default=dict, blank=True, help_text="The first unparseable answers, as given")

    @property
    def position_consistency(self) -> float | None:
        """1 − flips / judged: the share of judged pairs whose verdict did not change with the order."""
        return 1 - self.flips / self.judged if self.judged else None

    @property
    def unparseable_share(self) -> float | None:
        answered = self.judged + self.unparseable
        return self.unparseable / answered if answered else None


class MarginJob(ModelJob):
    """The "Score pair difficulty" job: each answer of a campaign's pairs scored under a registered base model (its summed
    log-prob given the prompt), stored in annotate's per-candidate cache for the export's margin knobs.

    Only answers not yet scored under the model's digest are scored; results are written in batches as they come,
    so a cancelled or failed job keeps what it had scored, and running it again finishes the rest.
    """

    PROGRESS = ("answers_done", "answers_total")

    base_model = models.ForeignKey(BaseModel, on_delete=models.PROTECT, related_name="margin_jobs")
    campaign = models.ForeignKey("annotate.Campaign", on_delete=models.CASCADE, related_name="margin_jobs")
    model_digest = models.CharField(max_length=64, blank=True, help_text="SHA-256 of the model's files, when run")
    answers_total = models.PositiveIntegerField(default=0, help_text="Answers to score (the rest were cached)")
    answers_done = models.PositiveIntegerField(default=0)
    answers_cached = models.PositiveIntegerField(default=0, help_text="Answers already scored under the digest")
