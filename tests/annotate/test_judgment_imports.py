from __future__ import annotations

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from annotate.export_policy import ExportPolicy
from annotate.models import Assignment, Comparison, JudgeIdentity, Judgment
from annotate.quality.load import campaign_arrays
from annotate.services import judgment_imports
from annotate.services.assignment import assign_next_pair
from annotate.services.exporting import export_preview
from annotate.services.importing import ImportRejected, import_comparisons
from annotate.services.judgment_imports import import_judgments
from tests.factories import CampaignFactory, LocaleFactory


def jsonl(*rows) -> bytes:
    return "\n".join(row if isinstance(row, str) else json.dumps(row) for row in rows).encode()


def lines(*rows) -> io.BytesIO:
    return io.BytesIO(jsonl(*rows))


def vote(outcome="a", a="c1", b="c2", prompt="p1", **who) -> dict:
    return {"prompt_id": prompt, "a": a, "b": b, "outcome": outcome, **(who or {"annotator": "w1"})}


@pytest.fixture
def campaign(db):
    """One prompt with three candidates; only c1–c2 is a pair yet (listed in the row)."""
    campaign = CampaignFactory(slug="ext", overlap=2, locales=[LocaleFactory(code="en-US")])
    row = {
        "id": "p1",
        "prompt": "Which is better?",
        "candidates": [{"id": f"c{i}", "text": f"Answer {i}."} for i in (1, 2, 3)],
        "pairs": [["c1", "c2"]],
    }
    import_comparisons(campaign_slug="ext", data=jsonl(row))
    return campaign


def test_annotators_and_judges_are_stored_with_their_provenance(campaign):
    result = import_judgments(
        campaign_slug="ext",
        lines=lines(
            vote("a", annotator="w1", strength="clear", critique="Shorter.", created_at="2024-05-01T12:00:00Z"),
            vote("tie", judge={"model": "gpt-3.5-turbo", "version": "0613"}),
            vote("b", judge={"model": "gpt-3.5-turbo"}),
        ),
    )
    assert (result.judgments_created, result.by_source) == (3, {"imported": 1, "ai": 2})
    human = Judgment.objects.get(source="imported")
    assert (human.outcome, human.strength, human.critique) == ("a", "clear", "Shorter.")
    assert human.created_at.isoformat() == "2024-05-01T12:00:00+00:00"
    identities = {i.user.username: i for i in JudgeIdentity.objects.select_related("user")}
    assert set(identities) == {"annotator:w1", "judge:gpt-3.5-turbo@0613", "judge:gpt-3.5-turbo"}
    assert identities["judge:gpt-3.5-turbo@0613"].model_version == "0613"  # a version is its own judge
    for identity in identities.values():  # nobody can sign in as an imported annotator or a judge
        assert not identity.user.has_usable_password() and not identity.user.is_active
        assert not identity.user.groups.exists()


def test_a_line_may_name_the_pair_in_either_order_and_a_new_pair_is_created(campaign):
    import_judgments(
        campaign_slug="ext",
        lines=lines(vote("a", a="c2", b="c1"), vote("b", a="c3", b="c1", annotator="w2")),
    )
    reversed_line = Judgment.objects.get(reviewer__username="annotator:w1")
    pair = reversed_line.comparison
    assert (pair.candidate_a.external_id, reversed_line.outcome) == ("c1", "b")  # c2 won: the pair's b
    assert reversed_line.assignment.a_on_left is False  # c2 was shown first
    new = Judgment.objects.get(reviewer__username="annotator:w2").comparison
    assert (new.candidate_a.external_id, new.candidate_b.external_id) == ("c3", "c1")
    assert Comparison.objects.filter(campaign=campaign).count() == 2


def test_reimporting_adds_nothing(campaign):
    data = jsonl(vote("a"), vote("b", annotator="w2"), vote("tie", judge={"model": "m"}))
    import_judgments(campaign_slug="ext", lines=io.BytesIO(data))
    again = import_judgments(campaign_slug="ext", lines=io.BytesIO(data))
    assert (again.judgments_created, again.already_present) == (0, 3)
    assert Judgment.objects.count() == 3
    assert Comparison.objects.get(campaign=campaign).taken == 2


def test_a_repeat_inside_the_file_is_stored_once_even_across_chunks(campaign, monkeypatch):
    monkeypatch.setattr(judgment_imports, "CHUNK_LINES", 2)
    result = import_judgments(
        campaign_slug="ext", lines=lines(vote("a"), vote("b", annotator="w2"), vote("a"), vote("a", a="c2", b="c1"))
    )
    assert (result.judgments_created, result.already_present) == (2, 2)


def test_a_bad_line_after_written_chunks_rolls_everything_back(campaign, monkeypatch):
    monkeypatch.setattr(judgment_imports, "CHUNK_LINES", 2)
    with pytest.raises(ImportRejected) as rejected:
        import_judgments(
            campaign_slug="ext",
            lines=lines(vote("a"), vote("b", annotator="w2"), vote("a", annotator="w3"), vote("maybe")),
        )
    assert rejected.value.errors == ["line 4: outcome: must be one of a, b, tie, both_bad, escalate"]
    assert (Judgment.objects.count(), Assignment.objects.count(), JudgeIdentity.objects.count()) == (0, 0, 0)
    assert Comparison.objects.get(campaign=campaign).taken == 0


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "line 2: json: Expecting property name enclosed in double quotes at column 2"),
        (b"\xff", "line 2: encoding: not valid UTF-8 (byte 0)"),
        ("[1]", "line 2: row: must be a JSON object"),
        ({**vote(), "outcme": "a"}, "line 2: outcme: not a field of a judgment line"),
        ({k: v for k, v in vote().items() if k != "prompt_id"}, "line 2: prompt_id: missing or empty id"),
        (vote(b="c1"), "line 2: b: names the same candidate as a"),
        (vote("better"), "line 2: outcome: must be one of a, b, tie, both_bad, escalate"),
        ({**vote(), "judge": {"model": "m"}}, "line 2: annotator: give either annotator (an id) or judge"),
        ({k: v for k, v in vote().items() if k != "annotator"}, "line 2: annotator: give either annotator"),
        (vote(judge={"model": ""}), "line 2: judge.model: missing or empty model name"),
        (vote(judge={"model": "m", "temperature": 0}), "line 2: judge.temperature: not a judge field"),
        (vote(judge="gpt"), "line 2: judge: must be an object"),
        (vote(annotator="w" * 201), "line 2: annotator: longer than 200 characters"),
        (vote(judge={"model": "m", "version": "v" * 201}), "line 2: judge.version: longer than 200 characters"),
        ({**vote(), "strength": "huge"}, "line 2: strength: must be one of slight, clear, strong"),
        ({**vote(), "ratings": {"left": {}}}, "line 2: ratings: must be an object like"),
        ({**vote(), "ratings": {"a": {"overall": 9}}}, "line 2: ratings.a.overall: Overall: pick a whole number"),
        ({**vote(), "ratings": {"b": {"fluency": 3}}}, "line 2: ratings.b.fluency: not a criterion of this rubric"),
        ({**vote(), "critique": 3}, "line 2: critique: must be text"),
        ({**vote(), "created_at": "yesterday"}, "line 2: created_at: not an ISO 8601 date-time"),
        ({**vote(), "created_at": "2024-05-01T12:00:00"}, "line 2: created_at: needs a time zone"),
        (vote(prompt="p9"), "line 2: prompt_id: no prompt 'p9' in 'ext'"),
        (vote(b="c7"), "line 2: b: no candidate 'c7' under prompt 'p1'"),
    ],
)
def test_every_problem_is_reported_by_line_and_field_and_nothing_is_stored(campaign, line, message):
    raw = line if isinstance(line, bytes) else (line if isinstance(line, str) else json.dumps(line)).encode()
    with pytest.raises(ImportRejected) as rejected:
        import_judgments(campaign_slug="ext", lines=io.BytesIO(jsonl(vote()) + b"\n" + raw))
    assert len(rejected.value.errors) == 1 and rejected.value.errors[0].startswith(message)
    assert not Judgment.objects.exists()


def test_judges_whose_names_read_alike_stay_apart(campaign):
    import_judgments(
        campaign_slug="ext", lines=lines(vote(judge={"model": "a@b"}), vote(judge={"model": "a", "version": "b"}))
    )
    names = sorted(JudgeIdentity.objects.values_list("user__username", flat=True))
    assert len(names) == 2 and names[0] == "judge:a@b" and names[1].startswith("judge:a@b~")


def test_an_unknown_campaign_and_an_empty_file_are_refused(campaign):
    with pytest.raises(ImportRejected, match="line 0: campaign: no campaign 'nope'"):
        import_judgments(campaign_slug="nope", lines=lines(vote()))
    with pytest.raises(ImportRejected, match="line 1: file: no judgments to import"):
        import_judgments(campaign_slug="ext", lines=io.BytesIO(b"\n\n"))


def test_a_byte_order_mark_is_accepted_and_only_the_first_errors_are_kept(campaign, monkeypatch):
    assert import_judgments(campaign_slug="ext", lines=io.BytesIO(b"\xef\xbb\xbf" + jsonl(vote()))).judgments_created
    monkeypatch.setattr("annotate.services.judgment_lines.MAX_ERRORS", 3)
    with pytest.raises(ImportRejected) as rejected:
        import_judgments(campaign_slug="ext", lines=lines(*["{"] * 10))
    assert rejected.value.errors[-1] == "… and 7 more problem(s)" and len(rejected.value.errors) == 4


def test_imported_humans_fill_a_pair_without_bound_and_ai_judges_never_count(campaign, alice):
    pair = Comparison.objects.get(campaign=campaign)
    import_judgments(campaign_slug="ext", lines=lines(*(vote(judge={"model": f"m{i}"}) for i in range(3))))
    assert Comparison.objects.get(pk=pair.pk).taken == 0
    lease = assign_next_pair(reviewer=alice, campaign=campaign)
    assert lease is not None and lease.comparison_id == pair.pk  # AI judgments leave the pair open to reviewers
    lease.delete()
    Comparison.objects.filter(pk=pair.pk).update(taken=0)
    import_judgments(campaign_slug="ext", lines=lines(*(vote(annotator=f"w{i}") for i in range(3))))
    assert Comparison.objects.get(pk=pair.pk).taken == 3  # overlap is 2: imported judgments are all kept
    assert assign_next_pair(reviewer=alice, campaign=campaign) is None  # a full pair gets no more reviewers


def test_ai_judgments_stay_out_of_human_numbers_and_of_a_default_export(campaign):
    import_judgments(
        campaign_slug="ext",
        lines=lines(vote("a", annotator="w1"), *(vote("b", judge={"model": f"m{i}"}) for i in range(3))),
    )
    human, ai = campaign_arrays(campaign=campaign), campaign_arrays(campaign=campaign, sources=("ai",))
    assert (len(human.outcome), len(ai.outcome)) == (1, 3)
    default = export_preview(campaigns=[campaign], policy=ExportPolicy(min_judgments=2))
    assert default["per_reason"]["too_few_judgments"] == 1  # one human vote; the judges' three do not count
    assert default["per_source"] == {"ai": {"pairs": 1, "judgments": 3}, "imported": {"pairs": 1, "judgments": 1}}
    everyone = export_preview(campaigns=[campaign], policy=ExportPolicy(min_judgments=2, source="all"))
    assert everyone["per_split"]["train"] + everyone["per_split"]["test"] == 1


def test_the_command_imports_a_file_and_refuses_a_bad_one(campaign, tmp_path, capsys):
    good, bad = tmp_path / "good.jsonl", tmp_path / "bad.jsonl"
    good.write_bytes(jsonl(vote(), vote(judge={"model": "m"})))
    bad.write_bytes(jsonl(vote(), vote(prompt="p9")))
    call_command("import_judgments", str(good), "--campaign", "ext")
    assert "2 new judgments (1 ai, 1 imported), 0 already present" in capsys.readouterr().out
    with pytest.raises(CommandError, match="1 problem"):
        call_command("import_judgments", str(bad), "--campaign", "ext")
    assert "line 2: prompt_id: no prompt 'p9'" in capsys.readouterr().err


def test_the_api_imports_for_a_lead(campaign, api_for, lena, settings):
    api = api_for(lena)
    url = reverse("api_campaign_judgment_import", args=["ext"])
    response = api.post(url, {"file": SimpleUploadedFile("j.jsonl", jsonl(vote()))}, format="multipart")
    assert response.status_code == 201 and response.json()["by_source"] == {"imported": 1}
    response = api.post(url, {"file": SimpleUploadedFile("j.jsonl", jsonl(vote("x")))}, format="multipart")
    assert response.status_code == 400 and response.json()["lines"][0].startswith("line 1: outcome:")
    settings.IMPORT_MAX_BYTES = 10
    response = api.post(url, {"file": SimpleUploadedFile("j.jsonl", jsonl(vote()))}, format="multipart")
    assert response.status_code == 413
    missing = reverse("api_campaign_judgment_import", args=["nope"])
    assert api.post(missing, {"file": SimpleUploadedFile("j.jsonl", b"")}, format="multipart").status_code == 404


def test_the_lead_page_imports_and_lists_problems(campaign, client_for, lena):
    client = client_for(lena)
    url = reverse("judgment_import_upload")
    assert client.get(url).status_code == 200
    bad = client.post(url, {"campaign": "ext", "file": SimpleUploadedFile("j.jsonl", jsonl(vote(prompt="p9")))})
    assert bad.status_code == 400 and "no prompt &#x27;p9&#x27;" in bad.content.decode()
    good = client.post(url, {"campaign": "ext", "file": SimpleUploadedFile("j.jsonl", jsonl(vote()))}, follow=True)
    assert "1 judgments (1 imported)" in good.content.decode()


def test_the_dashboard_filters_by_source_and_refuses_an_unknown_one(campaign, client_for, lena):
    import_judgments(
        campaign_slug="ext",
        lines=lines(vote("a", annotator="w1"), vote("b", judge={"model": "judge-x"}), vote("b", judge={"model": "y"})),
    )
    client = client_for(lena)
    url = reverse("quality_campaign", args=["ext"])
    assert "annotator:w1" in client.get(url).content.decode()
    page = client.get(url).content.decode()
    assert 'id="judges"' in page and "judge:judge-x" in page.split('id="judges"')[1]  # only in the judges table
    assert "judge:judge-x" not in page.split('id="judges"')[0]
    assert "judge:judge-x" in client.get(url, {"source": "ai"}).content.decode()
    refused = client.get(url, {"source": "robots"})
    assert refused.status_code == 400 and "source: expected one of human, ai, all" in refused.content.decode()
    index = reverse("quality_index")
    assert "<td>1</td>" in client.get(index).content.decode()  # judgments: the annotator's only
    assert "<td>3</td>" in client.get(index, {"source": "all"}).content.decode()
