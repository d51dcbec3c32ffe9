"""The annotation data model: who may review what, what is compared, and what reviewers decided."""

from __future__ import annotations

import random

from django.conf import settings
from django.db import models
from django.utils import timezone

from annotate import sources
from annotate.quality import codes

User = settings.AUTH_USER_MODEL


class Locale(models.Model):
    code = models.CharField(max_length=35, unique=True, help_text="BCP 47 tag, e.g. en-US")
    name = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class Qualification(models.Model):
    """A reviewer may review prompts of this locale; who granted it and when is kept for audits."""

    reviewer = models.ForeignKey(User, on_delete=models.CASCADE, related_name="qualifications")
    locale = models.ForeignKey(Locale, on_delete=models.CASCADE, related_name="qualifications")
    granted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    granted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["reviewer", "locale"], name="unique_qualification")]

    def __str__(self) -> str:
        return f"{self.reviewer} → {self.locale}"


class RubricInUseError(Exception):
    """Raised when code tries to change a rubric version that a campaign already uses."""


class Rubric(models.Model):
    """A versioned rubric. Criteria: [{"key", "label", "description", "scale"}], scale = points (ratings 1..scale)."""

    slug = models.SlugField(max_length=100)
    version = models.PositiveIntegerField(default=1)
    title = models.CharField(max_length=200)
    guidelines = models.TextField(blank=True, help_text="Markdown")
    criteria = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["slug", "-version"]
        constraints = [models.UniqueConstraint(fields=["slug", "version"], name="unique_rubric_version")]

    def __str__(self) -> str:
        return f"{self.slug} v{self.version}"

    @property
    def is_in_use(self) -> bool:
        return self.pk is not None and self.campaigns.exists()

    def save(self, *args, **kwargs) -> None:
        # Judgments were made against this exact text: changing it would silently rewrite history.
        if self.is_in_use:
            raise RubricInUseError(f"{self} is used by a campaign; edit it through rubric_revise to get a new version.")
        super().save(*args, **kwargs)

    def criterion_keys(self) -> list[str]:
        return [criterion["key"] for criterion in self.criteria]


class Campaign(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft"
        ACTIVE = "active"
        CLOSED = "closed"

    class Purpose(models.TextChoices):
        TRAINING = "training", "Training"
        # Reviewers judge a trained model against a baseline; its pairs stay out of training exports by default.
        EVALUATION = "evaluation", "Evaluation"

    slug = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    rubric = models.ForeignKey(Rubric, on_delete=models.PROTECT, related_name="campaigns")
    locales = models.ManyToManyField(Locale, related_name="campaigns", blank=True)
    overlap = models.PositiveIntegerField(default=3, help_text="Judgments wanted per pair")
    lease_minutes = models.PositiveIntegerField(default=30)
    gold_rate = models.FloatField(default=0.0, help_text="Share of assignments drawn from gold pairs (0–1)")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    purpose = models.CharField(max_length=12, choices=Purpose.choices, default=Purpose.TRAINING)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug


class Prompt(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="prompts")
    external_id = models.CharField(max_length=200)
    locale = models.ForeignKey(Locale, on_delete=models.PROTECT, related_name="prompts")
    text = models.TextField(blank=True)
    messages = models.JSONField(null=True, blank=True, help_text="Chat messages [{role, content}], or empty for text")
    tags = models.JSONField(default=dict, blank=True)
    source = models.JSONField(default=dict, blank=True, help_text="Where the row came from; never shown to reviewers")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["campaign", "external_id"], name="unique_prompt_external_id")]

    def __str__(self) -> str:
        return f"{self.campaign}/{self.external_id}"

    @property
    def is_conversation(self) -> bool:
        return bool(self.messages)


class ProtectedPrompt(models.Model):
    """A prompt no training split may hold, whatever campaign it appears in: known by the digest of its normalised
    text (annotate/protection.py) and its locale code, so protection follows the prompt, not a row.

    Where it came from is kept for audits: the campaign it was protected from, the run it evaluates (an id, as
    annotate never depends on training), who and when.
    """

    digest = models.CharField(max_length=64, help_text="SHA-256 of the normalised prompt text")
    locale_code = models.CharField(max_length=35)
    preview = models.CharField(max_length=200, blank=True, help_text="The start of the normalised text")
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    run_id = models.PositiveIntegerField(null=True, blank=True, help_text="The training run it was protected for")
    reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["digest", "locale_code"], name="unique_protected_prompt")]

    def __str__(self) -> str:
        return f"{self.locale_code}: {self.preview[:40]}"


class Candidate(models.Model):
    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="candidates")
    external_id = models.CharField(max_length=200)
    text = models.TextField()
    model_name = models.CharField(max_length=200, blank=True)
    model_version = models.CharField(max_length=200, blank=True)
    meta = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["prompt", "external_id"], name="unique_candidate_external_id")]

    def __str__(self) -> str:
        return f"{self.prompt}/{self.external_id}"


class Outcome(models.TextChoices):
    """What a reviewer decided, always in candidate terms (A/B), never left/right."""

    A = codes.A, "A better"
    B = codes.B, "B better"
    TIE = codes.TIE, "Tie"
    BOTH_BAD = codes.BOTH_BAD, "Both bad"
    ESCALATE = codes.ESCALATE, "Escalate"


class Strength(models.TextChoices):
    SLIGHT = codes.SLIGHT, "Slight"
    CLEAR = codes.CLEAR, "Clear"
    STRONG = codes.STRONG, "Strong"


def random_tiebreak() -> int:
    return random.randrange(2**31 - 1)


class Comparison(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="comparisons")
    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="comparisons")
    candidate_a = models.ForeignKey(Candidate, on_delete=models.CASCADE, related_name="+")
    candidate_b = models.ForeignKey(Candidate, on_delete=models.CASCADE, related_name="+")
    gold_outcome = models.CharField(
        max_length=10, choices=Outcome.choices[:4], blank=True, help_text="Known answer: makes this a gold item"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Review pool (services/assignment.py): slots held by submitted judgments and unswept leases, kept in the same
    # transaction as the assignment that changes it, and a random key fixed at creation that orders ties.
    taken = models.PositiveIntegerField(default=0, editable=False)
    tiebreak = models.IntegerField(default=random_tiebreak, editable=False)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["candidate_a", "candidate_b"], name="unique_comparison")]
        indexes = [
            models.Index(
                fields=["campaign", "-taken", "tiebreak"], name="review_pool_idx", condition=models.Q(gold_outcome="")
            ),
            models.Index(
                fields=["campaign", "tiebreak"], name="review_gold_pool_idx", condition=~models.Q(gold_outcome="")
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.candidate_a_id} vs {self.candidate_b_id}"

    @property
    def is_gold(self) -> bool:
        return bool(self.gold_outcome)


class Assignment(models.Model):
    """One reviewer's lease on one comparison slot, and which candidate they saw on the left."""

    class State(models.TextChoices):
        LEASED = "leased"
        SUBMITTED = "submitted"
        RELEASED = "released"
        # An AI judge's judgment: it records the order the judge saw, but holds no slot of the human review pool.
        UNPOOLED = "unpooled"

    reviewer = models.ForeignKey(User, on_delete=models.CASCADE, related_name="assignments")
    comparison = models.ForeignKey(Comparison, on_delete=models.CASCADE, related_name="assignments")
    a_on_left = models.BooleanField(default=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.LEASED)
    leased_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["comparison", "state"]),
            models.Index(fields=["reviewer", "state"]),
            models.Index(fields=["expires_at"], name="review_live_lease_idx", condition=models.Q(state="leased")),
        ]

    def __str__(self) -> str:
        return f"{self.reviewer} on {self.comparison_id} ({self.state})"


class JudgmentSource(models.TextChoices):
    REVIEWER = sources.REVIEWER, "Verdict reviewer"
    IMPORTED = sources.IMPORTED, "Imported annotator"
    AI = sources.AI, "AI judge"


class JudgeIdentity(models.Model):
    """Who stands behind judgments no Verdict reviewer made: an imported annotator or an AI judge.

    Each has its own user row (no usable password, inactive, no role group: it cannot sign in), so every judgment
    keeps a `reviewer` and the dashboard lists imported annotators and judges like reviewers.
    """

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="judge_identity")
    source = models.CharField(max_length=10, choices=JudgmentSource.choices[1:])
    external_id = models.CharField(max_length=200, blank=True, help_text="Imported annotator's pseudonymous id")
    model_name = models.CharField(max_length=200, blank=True)
    model_version = models.CharField(max_length=200, blank=True)
    prompt_sha256 = models.CharField(max_length=64, blank=True, help_text="Digest of the judge prompt")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id", "model_name", "model_version", "prompt_sha256"],
                name="unique_judge_identity",
            )
        ]

    def __str__(self) -> str:
        if self.source == JudgmentSource.IMPORTED:
            return f"annotator {self.external_id}"
        return " ".join(filter(None, [self.model_name, self.model_version, self.prompt_sha256[:8]]))


class Judgment(models.Model):
    assignment = models.OneToOneField(Assignment, on_delete=models.CASCADE, related_name="judgment")
    comparison = models.ForeignKey(Comparison, on_delete=models.CASCADE, related_name="judgments")
    reviewer = models.ForeignKey(User, on_delete=models.CASCADE, related_name="judgments")
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    strength = models.CharField(max_length=10, choices=Strength.choices, blank=True)
    ratings = models.JSONField(default=dict, blank=True, help_text='{"a": {criterion: int}, "b": {criterion: int}}')
    critique = models.TextField(blank=True)
    time_taken_ms = models.PositiveIntegerField(default=0)
    gold_correct = models.BooleanField(null=True, blank=True, help_text="Set for gold items only")
    created_at = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=10, choices=JudgmentSource.choices, default=JudgmentSource.REVIEWER)
    order_consistent = models.BooleanField(
        null=True,
        blank=True,
        help_text="AI judges that saw the pair in both orders: whether both verdicts agreed (empty otherwise)",
    )

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["comparison", "outcome"])]
        constraints = [
            # Re-importing a file adds nothing: one judgment per imported annotator or AI judge and pair.
            models.UniqueConstraint(
                fields=["comparison", "reviewer"],
                condition=~models.Q(source=sources.REVIEWER),
                name="one_external_judgment_per_pair",
            )
        ]

    def __str__(self) -> str:
        return f"{self.reviewer}: {self.outcome} on {self.comparison_id}"


class EscalationResolution(models.Model):
    """A lead's answer to an escalated judgment; the judgment itself is never overwritten."""

    class Decision(models.TextChoices):
        A = codes.A, "A better"
        B = codes.B, "B better"
        TIE = codes.TIE, "Tie"
        BOTH_BAD = codes.BOTH_BAD, "Both bad"
        DISCARD = "discard", "Discard pair"

    judgment = models.OneToOneField(Judgment, on_delete=models.CASCADE, related_name="resolution")
    decision = models.CharField(max_length=10, choices=Decision.choices)
    note = models.TextField(blank=True)
    resolved_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    resolved_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.judgment_id} → {self.decision}"


class ReviewerFlag(models.Model):
    """A lead's mark on a reviewer whose judgments should not be trained on (campaign=None: everywhere)."""

    reviewer = models.ForeignKey(User, on_delete=models.CASCADE, related_name="flags")
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.CASCADE, related_name="flags")
    reason = models.TextField(blank=True)
    flagged_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    active = models.BooleanField(default=True)
    # Who lifted the flag and when (a flag is never deleted: exports made meanwhile left this reviewer out).
    cleared_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    cleared_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.reviewer} flagged"


class DatasetSnapshot(models.Model):
    """An immutable export of DPO-ready pairs: files on disk under `path`, described by `manifest`."""

    version = models.PositiveIntegerField(unique=True)
    campaigns = models.ManyToManyField(Campaign, related_name="snapshots")
    policy = models.JSONField(default=dict)
    path = models.CharField(max_length=500)
    manifest = models.JSONField(default=dict)
    manifest_sha256 = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"snapshot v{self.version}"


class ExportJob(models.Model):
    """One requested export: the policy and campaigns asked for, where it stands, and the snapshot it made.

    Pairs done while running live in the cache (the export reads inside one long transaction, so a row update
    would stay invisible until it ends); `pairs_done` here is the final figure.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    policy = models.JSONField(default=dict)
    campaigns = models.ManyToManyField(Campaign, related_name="export_jobs")
    requested_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    total_pairs = models.PositiveIntegerField(default=0)
    pairs_done = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    snapshot = models.ForeignKey(DatasetSnapshot, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"export job {self.pk} ({self.status})"

    @property
    def done(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)


class CandidateLogProb(models.Model):
    """One answer's log-prob given its prompt under a reference (base) model, written by the training side's margin
    job through `annotate.services.margin_logps`.

    A candidate belongs to one prompt, so this is the per-pair cache: a pair's implicit reference margin is
    logp(majority's answer) − logp(other answer) summed over tokens, and per token the difference of the two answers'
    per-token means (`logprob_sum / tokens`), which does not grow with length. `model_digest` is the SHA-256 of the
    model folder's files (training.engine.digest), so a changed model never reuses these values.
    """

    candidate = models.ForeignKey(Candidate, on_delete=models.CASCADE, related_name="logprobs")
    model_digest = models.CharField(max_length=64)
    model_name = models.CharField(max_length=200, blank=True)
    logprob_sum = models.FloatField(help_text="Summed log-prob of the answer's tokens given the prompt (nats)")
    tokens = models.PositiveIntegerField(help_text="Answer tokens scored (with the end token)")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["candidate", "model_digest"], name="unique_candidate_logprob"),
        ]
        indexes = [models.Index(fields=["model_digest", "candidate"], name="logprob_digest_idx")]

    def __str__(self) -> str:
        return f"{self.candidate_id} under {self.model_digest[:12]}"

    @property
    def logprob_per_token(self) -> float:
        return self.logprob_sum / self.tokens if self.tokens else 0.0
