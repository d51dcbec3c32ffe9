"""Import options for generated answers: pairing across models, empty answers, identical answers."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from annotate.models import Candidate, Comparison
from annotate.services.importing import ImportRejected, import_comparisons
from tests.factories import LocaleFactory


def generated(model: str, texts: tuple[str, ...], pid: str = "p1") -> bytes:
    candidates = [{"id": f"{model}-{i}", "text": t, "model": model, "model_version": "v1"} for i, t in enumerate(texts)]
    return json.dumps({"id": pid, "locale": "en-US", "prompt": "Is it?", "candidates": candidates}).encode()


def pair_models() -> list[tuple[str, str]]:
    return sorted(
        tuple(sorted((c.candidate_a.model_name, c.candidate_b.model_name)))
        for c in Comparison.objects.select_related("candidate_a", "candidate_b")
    )


@pytest.fixture(autouse=True)
def locale(db):
    return LocaleFactory(code="en-US")


def test_across_models_pairs_a_later_models_answers_with_the_stored_ones_of_other_models():
    first = import_comparisons(campaign_slug="g", data=generated("a", ("A1", "A2")), pairs="across-models")
    second = import_comparisons(campaign_slug="g", data=generated("b", ("B1", "B2")), pairs="across-models")
    assert first.comparisons_created == 0  # one model alone: nothing to compare it with
    assert second.comparisons_created == 4
    assert pair_models() == [("a", "b")] * 4


def test_across_models_never_pairs_two_answers_of_one_model_even_in_one_row():
    rows = json.loads(generated("a", ("A1", "A2")))
    rows["candidates"] += json.loads(generated("b", ("B1",)))["candidates"]
    result = import_comparisons(campaign_slug="g", data=json.dumps(rows).encode(), pairs="across-models")
    assert result.comparisons_created == 2
    assert pair_models() == [("a", "b")] * 2


def test_across_models_is_idempotent():
    for _ in range(2):
        import_comparisons(campaign_slug="g", data=generated("a", ("A1",)), pairs="across-models")
        import_comparisons(campaign_slug="g", data=generated("b", ("B1",)), pairs="across-models")
    assert (Candidate.objects.count(), Comparison.objects.count()) == (2, 1)


def test_an_empty_answer_is_refused_unless_allowed():
    with pytest.raises(ImportRejected) as refused:
        import_comparisons(campaign_slug="g", data=generated("a", ("", "Yes.")))
    assert refused.value.errors == ["line 1: candidates[0].text: missing or empty text"]
    result = import_comparisons(campaign_slug="g", data=generated("a", ("", "Yes.")), allow_empty=True)
    assert result.comparisons_created == 1
    assert Candidate.objects.filter(text="").count() == 1


def test_identical_answers_are_refused_unless_allowed():
    with pytest.raises(ImportRejected) as refused:
        import_comparisons(campaign_slug="g", data=generated("a", ("Same.", "Same.")))
    assert "needs at least two distinct texts" in refused.value.errors[0]
    with pytest.raises(ImportRejected):
        import_comparisons(campaign_slug="g", data=generated("a", ("Same.", "Same.")), pairs="across-models")


def test_one_models_identical_samples_collapse_into_one_candidate():
    data = generated("a", ("Same.", "Same.", "Other."))
    result = import_comparisons(campaign_slug="g", data=data, pairs="all", allow_identical=True)
    assert (result.candidates_created, result.comparisons_created) == (2, 1)
    # A later sample of the same model with the same text is that candidate too.
    again = import_comparisons(campaign_slug="g", data=generated("a", ("Same.",), pid="p1"), allow_identical=True)
    assert again.candidates_created == 0


def test_two_models_identical_answers_get_no_pair():
    import_comparisons(campaign_slug="g", data=generated("a", ("Same.",)), pairs="across-models", allow_identical=True)
    result = import_comparisons(
        campaign_slug="g", data=generated("b", ("Same.", "Other.")), pairs="across-models", allow_identical=True
    )
    assert (result.candidates_created, result.comparisons_created) == (2, 1)
    only = Comparison.objects.select_related("candidate_a", "candidate_b").get()
    assert {only.candidate_a.text, only.candidate_b.text} == {"Same.", "Other."}


def test_the_command_takes_the_flags(tmp_path):
    path = tmp_path / "gen.jsonl"
    path.write_bytes(generated("a", ("", "", "Yes.")))
    call_command(
        "import_comparisons", str(path), campaign="g", pairs="across-models", allow_empty=True, allow_identical=True
    )
    path.write_bytes(generated("b", ("No.",)))
    call_command("import_comparisons", str(path), campaign="g", pairs="across-models")
    assert (Candidate.objects.count(), Comparison.objects.count()) == (3, 2)


def test_reviewers_see_an_empty_answer_said_plainly(alice, client_for):
    from tests.factories import CampaignFactory

    CampaignFactory(slug="g")
    import_comparisons(campaign_slug="g", data=generated("a", ("", "Yes.")), allow_empty=True)
    client = client_for(alice)
    client.post("/review/g/next", HTTP_HX_REQUEST="true")  # a GET leases nothing: the reviewer asks for a pair
    page = client.get("/review/g/")
    assert "(empty answer)" in page.content.decode()


def test_a_nul_character_is_refused_on_every_database():
    with pytest.raises(ImportRejected) as refused:
        import_comparisons(campaign_slug="g", data=generated("a", ("Yes\x00.", "No.")))
    assert refused.value.errors == [
        "line 1: candidates[0].text: contains a NUL character (\\u0000), which cannot be stored"
    ]


def test_the_api_takes_the_options_as_query_parameters(api_for, lena):
    from django.core.files.uploadedfile import SimpleUploadedFile

    api = api_for(lena)
    url = "/api/v1/campaigns/g/imports?pairs=across-models&allow_empty=1&allow_identical=1"
    first = api.post(url, {"file": SimpleUploadedFile("a.jsonl", generated("a", ("", "")))})
    second = api.post(url, {"file": SimpleUploadedFile("b.jsonl", generated("b", ("No.",)))})
    assert (first.status_code, second.status_code) == (201, 201), second.json()
    assert (first.json()["candidates_created"], second.json()["comparisons_created"]) == (1, 1)
    refused = api.post("/api/v1/campaigns/g/imports", {"file": SimpleUploadedFile("c.jsonl", generated("c", ("",)))})
    assert refused.status_code == 400
