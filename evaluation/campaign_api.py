"""REST API for evaluation campaigns (leads only): start one for a run, list them, read one."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view, permission_classes
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from annotate.permissions import IsLead
from config.api import errors
from evaluation import campaign_selectors as selectors
from evaluation.campaign_serializers import EvaluationInput, EvaluationSerializer
from evaluation.services import EvaluationRejected, evaluation_campaign_create
from training.models import TrainingRun

LIST_LIMIT = 100


@extend_schema(
    methods=["GET"], request=None, responses={200: EvaluationSerializer(many=True), **errors()}, summary="Evaluations"
)
@extend_schema(
    methods=["POST"],
    request=EvaluationInput,
    responses={201: EvaluationSerializer, **errors(400)},
    summary="Evaluate a run with reviewers",
)
@api_view(["GET", "POST"])
@permission_classes([IsLead])
def evaluations(request: Request) -> Response:
    """GET: the latest evaluation campaigns. POST {"run": id, "baseline": "base:ID"|"run:ID", "overlap": 1,
    "prompts": "test-split"|campaign slug, "samples", "temperature", "top_p", "max_new_tokens", "seed"} → 201: the
    prompts are protected, the campaign created and its generation job queued; 400 {"field": ["message"]}."""
    if request.method == "GET":
        rows = selectors.evaluation_list()[:LIST_LIMIT]
        return Response([selectors.evaluation_summary(evaluation=row) for row in rows])
    given = EvaluationInput(data=request.data)
    given.is_valid(raise_exception=True)
    data = given.validated_data
    run = TrainingRun.objects.select_related("snapshot").filter(id=data["run"]).first()
    if run is None:
        raise ValidationError({"run": [f"no run with id {data['run']}"]})
    try:
        evaluation = evaluation_campaign_create(
            run=run,
            baseline=data["baseline"],
            overlap=data["overlap"],
            prompts=data["prompts"],
            settings_values=given.settings_values(),
            requested_by=request.user,
        )
    except EvaluationRejected as exc:
        raise ValidationError(exc.errors) from exc
    evaluation = selectors.evaluation_get(evaluation_id=evaluation.id)
    return Response(selectors.evaluation_summary(evaluation=evaluation), status=201)


@extend_schema(responses={200: EvaluationSerializer, **errors(404)}, summary="One evaluation")
@api_view(["GET"])
@permission_classes([IsLead])
def evaluation_detail(request: Request, evaluation_id: int) -> Response:
    return Response(selectors.evaluation_summary(evaluation=selectors.evaluation_get(evaluation_id=evaluation_id)))
