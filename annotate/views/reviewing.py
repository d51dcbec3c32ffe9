"""The compare page: one pair at a time, judged with the keyboard; htmx swaps in the next pair after each submit.

Opening the page (GET) changes nothing: it shows the reviewer's live lease, or a placeholder that asks for a pair
with a POST as soon as it loads (a plain button without JavaScript). Every lease is taken by a POST."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe
from django_htmx.http import HttpResponseClientRedirect

from annotate import review_selectors
from annotate.forms import JudgmentForm, form_errors
from annotate.models import Assignment, Campaign, Strength
from annotate.permissions import reviewer_required
from annotate.services.assignment import assign_next_pair, has_work, live_lease, skip_assignment
from annotate.services.judging import (
    JudgmentInvalid,
    UndoUnavailable,
    submit_judgment,
    undo_available,
    undo_last_judgment,
)

CHOICES = [
    ("left", "Left better", "1"),
    ("right", "Right better", "2"),
    ("tie", "Tie", "t"),
    ("both_bad", "Both bad", "b"),
    ("escalate", "Escalate", "e"),
]
STRENGTHS = [(Strength.SLIGHT, "Slight", "z"), (Strength.CLEAR, "Clear", "x"), (Strength.STRONG, "Strong", "c")]


def _campaign_or_404(request: HttpRequest, slug: str) -> Campaign:
    campaign = review_selectors.campaign_for_reviewer(reviewer=request.user, slug=slug)
    if campaign is None:
        raise Http404("No such campaign for you")
    return campaign


def _own_assignment_or_404(request: HttpRequest, campaign: Campaign, assignment_id: int) -> Assignment:
    assignment = review_selectors.assignment_for_reviewer(reviewer=request.user, assignment_id=assignment_id)
    if assignment is None or assignment.comparison.campaign_id != campaign.pk:
        raise Http404("No such assignment")
    return assignment


def _ratings_from(data, criteria: list[dict]) -> dict[str, dict[str, str]]:
    return {
        side: {c["key"]: data[f"rating-{side}-{c['key']}"] for c in criteria if data.get(f"rating-{side}-{c['key']}")}
        for side in ("left", "right")
    }


def _criteria_rows(rubric, ratings: dict[str, dict[str, str]]) -> list[dict]:
    return [
        {
            **criterion,
            "points": range(1, int(criterion.get("scale", 5)) + 1),
            "left": str(ratings.get("left", {}).get(criterion["key"], "")),
            "right": str(ratings.get("right", {}).get(criterion["key"], "")),
        }
        for criterion in rubric.criteria
    ]


def _render(
    request: HttpRequest,
    campaign: Campaign,
    assignment: Assignment | None,
    *,
    errors: dict[str, str] | None = None,
    submitted: dict | None = None,
    notice: str = "",
    waiting: bool = False,
    status: int = 200,
) -> HttpResponse:
    submitted = submitted or {}
    pair = review_selectors.blind_pair(assignment=assignment, campaign=campaign) if assignment else None
    context = {
        "campaign": campaign,
        "pair": pair,
        "criteria": _criteria_rows(pair.rubric, submitted.get("ratings", {})) if pair else [],
        "choices": CHOICES,
        "strengths": STRENGTHS,
        "errors": errors or {},
        "rating_errors": [message for field, message in (errors or {}).items() if field.startswith("ratings")],
        "submitted": submitted,
        "notice": notice,
        "waiting": waiting,
        "progress": review_selectors.campaign_progress(campaign=campaign, reviewer=request.user),
        "today": review_selectors.judgments_today(reviewer=request.user),
        "can_undo": undo_available(reviewer=request.user),
    }
    template = "annotate/review/_compare.html" if request.htmx else "annotate/review/compare.html"
    return render(request, template, context, status=status)


@reviewer_required
@require_safe
def review_campaign(request: HttpRequest, slug: str) -> HttpResponse:
    """The reviewer's live lease if they hold one; otherwise a placeholder that leases through `review_next`, or
    "all caught up" when nothing is left (reads only: a GET must not lease)."""
    campaign = _campaign_or_404(request, slug)
    lease = live_lease(reviewer=request.user, campaign=campaign)
    waiting = lease is None and has_work(reviewer=request.user, campaign=campaign)
    return _render(request, campaign, lease, waiting=waiting)


@reviewer_required
@require_POST
def review_next(request: HttpRequest, slug: str) -> HttpResponse:
    """Lease the next pair (or keep the live lease) and show it; without htmx, go back to the page, which shows it."""
    campaign = _campaign_or_404(request, slug)
    assignment = assign_next_pair(reviewer=request.user, campaign=campaign)
    if not request.htmx:
        return redirect("review_campaign", slug=campaign.slug)
    return _render(request, campaign, assignment)


@reviewer_required
@require_POST
def review_submit(request: HttpRequest, slug: str, assignment_id: int) -> HttpResponse:
    """Store the judgment and answer with the next pair, leased in this same request so it shows at once."""
    campaign = _campaign_or_404(request, slug)
    assignment = _own_assignment_or_404(request, campaign, assignment_id)
    ratings = _ratings_from(request.POST, campaign.rubric.criteria)
    form = JudgmentForm(request.POST)
    try:
        if not form.is_valid():  # the shape first (text, numbers); the service checks the meaning
            raise JudgmentInvalid(form_errors(form))
        submit_judgment(
            assignment=assignment,
            choice=request.POST.get("choice", ""),
            strength=request.POST.get("strength", ""),
            ratings=ratings,
            critique=form.cleaned_data["critique"],
            time_taken_ms=form.cleaned_data["time_taken_ms"] or 0,
        )
    except JudgmentInvalid as invalid:
        submitted = {**request.POST.dict(), "ratings": ratings}
        # htmx only swaps 2xx answers: the form comes back with its messages and the values typed so far.
        status = 200 if request.htmx else 400
        if "assignment" in invalid.errors:  # the lease lapsed and the pair filled up: move on to the next one
            following = assign_next_pair(reviewer=request.user, campaign=campaign)
            return _render(request, campaign, following, notice=invalid.errors["assignment"], status=status)
        return _render(request, campaign, assignment, errors=invalid.errors, submitted=submitted, status=status)
    following = assign_next_pair(reviewer=request.user, campaign=campaign)
    if not request.htmx:  # the page (a GET) shows the lease just taken
        return redirect("review_campaign", slug=campaign.slug)
    return _render(request, campaign, following, notice="Saved.")


@reviewer_required
@require_POST
def review_skip(request: HttpRequest, slug: str, assignment_id: int) -> HttpResponse:
    campaign = _campaign_or_404(request, slug)
    skip_assignment(assignment=_own_assignment_or_404(request, campaign, assignment_id))
    following = assign_next_pair(reviewer=request.user, campaign=campaign)
    if not request.htmx:
        return redirect("review_campaign", slug=campaign.slug)
    return _render(request, campaign, following, notice="Skipped.")


@reviewer_required
@require_POST
def review_undo(request: HttpRequest, slug: str) -> HttpResponse:
    """Take back the last judgment (60 s) and show that pair again, its lease renewed."""
    campaign = _campaign_or_404(request, slug)
    previous = review_selectors.latest_judgment_as_submitted(reviewer=request.user)
    try:
        assignment = undo_last_judgment(reviewer=request.user)
    except UndoUnavailable as refused:
        return _render(
            request,
            campaign,
            assign_next_pair(reviewer=request.user, campaign=campaign),
            notice=str(refused).capitalize() + ".",
        )
    if assignment.comparison.campaign_id != campaign.pk or not request.htmx:
        # The last judgment was made in another campaign (another tab): go to that campaign's page.
        url = reverse("review_campaign", args=[assignment.comparison.campaign.slug])
        return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    return _render(
        request, campaign, assignment, submitted=previous, notice="Judgment taken back: change it and submit again."
    )
