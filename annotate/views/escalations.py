"""Leads' queue of escalated judgments: see the pair, the critique and who escalated; resolve or discard."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from annotate import review_selectors
from annotate.forms import ResolutionForm, form_errors
from annotate.models import EscalationResolution, Judgment, Outcome
from annotate.permissions import lead_required
from annotate.services.escalations import ResolutionInvalid, resolve_escalation

QUEUE_PAGE = 50


@lead_required
def escalation_list(request: HttpRequest) -> HttpResponse:
    queue = review_selectors.open_escalations()
    return render(
        request,
        "annotate/escalations/list.html",
        {
            "escalations": queue[:QUEUE_PAGE],
            "open_count": queue.count(),
            "resolved": review_selectors.resolved_escalations(),
            "decisions": EscalationResolution.Decision.choices,
        },
    )


@lead_required
@require_POST
def escalation_resolve(request: HttpRequest, judgment_id: int) -> HttpResponse:
    judgment = review_selectors.open_escalations().filter(pk=judgment_id).first()
    if judgment is None:
        if not Judgment.objects.filter(pk=judgment_id, outcome=Outcome.ESCALATE).exists():
            raise Http404("No such escalation")
        judgment = Judgment.objects.select_related("resolution__resolved_by").get(pk=judgment_id)
        context = {"item": judgment, "errors": {"judgment": "already resolved"}, "decisions": []}
        return render(request, "annotate/escalations/_item.html", context, status=200 if request.htmx else 409)
    form = ResolutionForm(request.POST)
    try:
        if not form.is_valid():  # the shape first (text); the service checks the decision
            raise ResolutionInvalid(form_errors(form))
        resolve_escalation(
            judgment=judgment,
            lead=request.user,
            decision=request.POST.get("decision", ""),
            note=form.cleaned_data["note"],
        )
    except ResolutionInvalid as invalid:
        context = {
            "item": judgment,
            "errors": invalid.errors,
            "decisions": EscalationResolution.Decision.choices,
            "submitted": request.POST,
        }
        return render(request, "annotate/escalations/_item.html", context, status=200 if request.htmx else 400)
    if not request.htmx:
        return redirect("escalation_list")
    judgment.refresh_from_db()
    return render(request, "annotate/escalations/_item.html", {"item": judgment, "decisions": []})
