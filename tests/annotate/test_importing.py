from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from annotate.models import Campaign, Candidate, Comparison, Prompt
from annotate.services.importing import ImportRejected, import_comparisons
from tests.factories import CampaignFactory, LocaleFactory


def jsonl(*rows) -> bytes:
    return "\n".join(row if isinstance(row, str) else json.dumps(row, ensure_ascii=False) for row in rows).encode()


def native(pid="p1", locale="en-US", texts=("Yes.", "No.", "Maybe."), **extra):
    candidates = [{"id": f"c{i}", "text": t, "model": "m", "model_version": "v1"} for i, t in enumerate(texts)]
    return {"id": pid, "locale": locale, "prompt": "Is it?", "candidates": candidates, **extra}


@pytest.fixture
def locales(db):
    return LocaleFactory(code="en-US"), LocaleFactory(code="ja-JP")


def counts() -> tuple[int, int, int, int]:
    return Campaign.objects.count(), Prompt.objects.count(), Candidate.objects.count(), Comparison.objects.count()


def test_it_creates_the_campaign_and_every_unordered_pair(locales):
    result = import_comparisons(campaign_slug="new", data=jsonl(native("p1"), native("p2", texts=("A.", "B."))))
    campaign = Campaign.objects.get(slug="new")
    assert (result.prompts_created, result.candidates_created, result.comparisons_created) == (2, 5, 4)
    assert campaign.rubric.slug == "default" and campaign.rubric.criteria
    assert {locale.code for locale in campaign.locales.all()} == {"en-US"}


def test_adjacent_pairing_links_neighbours_only(locales):
    result = import_comparisons(campaign_slug="adj", data=jsonl(native(texts=("1", "2", "3", "4"))), pairs="adjacent")
    assert result.comparisons_created == 3


def test_reimporting_the_same_file_duplicates_nothing(locales):
    data = jsonl(native("p1"), native("p2", messages=[{"role": "user", "content": "Hi"}]))
    import_comparisons(campaign_slug="c", data=data)
    before = counts()
    again = import_comparisons(campaign_slug="c", data=data)
    assert counts() == before
    assert (again.prompts_created, again.candidates_created, again.comparisons_created) == (0, 0, 0)


def test_a_new_candidate_on_reimport_adds_only_its_pairs(locales):
    import_comparisons(campaign_slug="c", data=jsonl(native(texts=("A.", "B."))))
    result = import_comparisons(campaign_slug="c", data=jsonl(native(texts=("A.", "B.", "C."))))
    assert (result.candidates_created, result.comparisons_created) == (1, 2)


def test_a_large_file_is_written_in_batches_of_a_few_queries_each(locales, django_assert_max_num_queries):
    """The import holds the write lock throughout (on SQLite every reviewer waits for it): queries per batch, not per
    row (SQLite splits big INSERTs). 1,200 prompts are three batches; the second import adds a candidate per prompt."""
    rows = [native(f"p{i}", texts=(f"A{i}.", f"B{i}.")) for i in range(1200)]
    with django_assert_max_num_queries(100):  # row by row it was over 7,000
        first = import_comparisons(campaign_slug="big", data=jsonl(*rows))
    assert (first.prompts_created, first.candidates_created, first.comparisons_created) == (1200, 2400, 1200)
    rows = [native(f"p{i}", texts=(f"A{i}.", f"B{i}.", f"C{i}.")) for i in range(1200)]
    with django_assert_max_num_queries(100):  # row by row it was over 7,000
        again = import_comparisons(campaign_slug="big", data=jsonl(*rows))
    assert (again.prompts_created, again.candidates_created, again.comparisons_created) == (0, 1200, 2400)
    pairs = Comparison.objects.filter(prompt__external_id="p7").values_list("candidate_a__text", "candidate_b__text")
    assert sorted(pairs) == [("A7.", "B7."), ("A7.", "C7."), ("B7.", "C7.")]


def test_conversational_prompts_keep_their_messages(locales):
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    row = native()
    del row["prompt"]
    import_comparisons(campaign_slug="c", data=jsonl({**row, "messages": messages}))
    assert Prompt.objects.get().messages == messages


def test_trl_rows_become_blind_candidates_with_the_label_kept_as_source(locales):
    standard = {"prompt": "2+2?", "chosen": "4", "rejected": "5"}
    conversational = {
        "prompt": [{"role": "user", "content": "Hello?"}],
        "chosen": [{"role": "assistant", "content": "Hi there!"}],
        "rejected": [{"role": "assistant", "content": "Go away."}],
    }
    import_comparisons(campaign_slug="trl", data=jsonl(standard, conversational), default_locale="en-US")
    prompt = Prompt.objects.get(text="2+2?")
    chosen = prompt.candidates.get(text="4")
    assert prompt.source["format"] == "trl" and prompt.source["label"]["chosen"] == chosen.external_id
    assert "chosen" not in chosen.external_id and "rejected" not in prompt.candidates.get(text="5").external_id
    assert Prompt.objects.get(messages__isnull=False).candidates.filter(text="Hi there!").exists()
    import_comparisons(campaign_slug="trl", data=jsonl(standard, conversational), default_locale="en-US")
    assert Prompt.objects.count() == 2


BAD_ROWS = [
    ('{"id": "p2", "locale": "en-US", "prompt": "x", "candidates": [', "line 2: json:"),
    (native("p2", texts=("Same.", "Same.")), "line 2: candidates: needs at least two distinct texts"),
    (native("p2", texts=("Only one.",)), "line 2: candidates: needs at least two distinct texts"),
    (native("p2", texts=("A.", "")), "line 2: candidates[1].text: missing or empty text"),
    ({**native("p2"), "prompt": ""}, "line 2: prompt: missing or empty text"),
    (native("p2", locale="xx-XX"), "line 2: locale: 'xx-XX' is not a well-formed BCP 47 tag"),
    (native("p1"), "line 2: id: duplicate id 'p1' (first on line 1)"),
    ({**native("p2"), "id": ""}, "line 2: id: missing or empty id"),
    ({"prompt": "q", "chosen": "a", "locale": "en-US"}, "line 2: rejected: missing or empty text"),
    ("[1, 2]", "line 2: row: must be a JSON object"),
]


@pytest.mark.parametrize(("bad_row", "message"), BAD_ROWS)
def test_one_bad_row_rejects_the_whole_file_naming_the_line(locales, bad_row, message):
    with pytest.raises(ImportRejected) as rejected:
        import_comparisons(campaign_slug="c", data=jsonl(native("p1"), bad_row, native("p3")))
    assert any(error.startswith(message) for error in rejected.value.errors), rejected.value.errors
    assert counts() == (0, 0, 0, 0)


def test_non_utf8_bytes_are_reported_by_line(locales):
    data = jsonl(native("p1")) + b'\n{"id": "p2", "prompt": "caf\xe9"}'
    with pytest.raises(ImportRejected) as rejected:
        import_comparisons(campaign_slug="c", data=data)
    assert rejected.value.errors[0].startswith("line 2: encoding: not valid UTF-8")
    assert counts() == (0, 0, 0, 0)


def test_every_problem_is_reported_at_once_in_line_order(locales):
    with pytest.raises(ImportRejected) as rejected:
        import_comparisons(campaign_slug="c", data=jsonl(native("p1", locale="zz"), "{bad", native("p3", texts=("x",))))
    assert [error.split(":")[0] for error in rejected.value.errors] == ["line 1", "line 2", "line 3"]


def test_an_existing_campaign_is_left_unchanged_by_a_rejected_file(locales):
    campaign = CampaignFactory(slug="keep")
    with pytest.raises(ImportRejected):
        import_comparisons(campaign_slug="keep", data=jsonl(native("p1"), "{"))
    assert not campaign.prompts.exists()


def test_command_exits_non_zero_and_prints_row_messages(locales, tmp_path, capsys):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(jsonl(native("p1"), native("p2", locale="xx-XX")))
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_comparisons", str(path), campaign="c")
    assert "line 2: locale: 'xx-XX' is not a well-formed BCP 47 tag" in capsys.readouterr().err
    assert counts() == (0, 0, 0, 0)


def test_command_imports_with_a_default_locale(locales, tmp_path, capsys):
    path = tmp_path / "ok.jsonl"
    row = native("p1")
    del row["locale"]
    path.write_bytes(jsonl(row))
    call_command("import_comparisons", str(path), campaign="c", locale="ja-JP", pairs="adjacent")
    assert Prompt.objects.get().locale.code == "ja-JP"
    assert "2 new comparisons" in capsys.readouterr().out


def test_upload_page_shows_every_error_and_creates_nothing(client_for, lena, locales):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("f.jsonl", jsonl(native("p1"), "{"))
    response = client_for(lena).post("/imports/", {"campaign": "c", "file": upload, "pairs": "all"})
    assert response.status_code == 400 and b"line 2: json:" in response.content
    assert counts() == (0, 0, 0, 0)


def test_api_import_answers_201_then_400_with_row_errors(api_for, lena, locales):
    from django.core.files.uploadedfile import SimpleUploadedFile

    api = api_for(lena)
    ok = api.post("/api/v1/campaigns/c/imports", {"file": SimpleUploadedFile("f.jsonl", jsonl(native()))})
    assert ok.status_code == 201 and ok.json()["comparisons_created"] == 3
    bad = api.post("/api/v1/campaigns/c/imports", {"file": SimpleUploadedFile("f.jsonl", b"{")})
    assert bad.status_code == 400 and bad.json()["lines"][0].startswith("line 1: json:")


def test_a_row_may_list_the_pairs_to_create(locales):
    row = native(texts=("A.", "B.", "C."), pairs=[["c2", "c0"]])
    result = import_comparisons(campaign_slug="c", data=jsonl(row))
    pair = Comparison.objects.get()
    assert result.comparisons_created == 1
    assert (pair.candidate_a.external_id, pair.candidate_b.external_id) == ("c2", "c0")


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        ([["c0", "c9"]], "line 1: pairs[0]: no candidate 'c9' in this row"),
        ([["c0", "c0"]], "line 1: pairs[0]: must name two different candidates"),
        ([], "line 1: pairs: must be a non-empty list"),
    ],
)
def test_listed_pairs_must_name_the_rows_candidates(locales, pairs, message):
    with pytest.raises(ImportRejected) as rejected:
        import_comparisons(campaign_slug="c", data=jsonl(native(pairs=pairs)))
    assert rejected.value.errors[0].startswith(message)


def test_a_byte_order_mark_is_accepted(locales):
    assert import_comparisons(campaign_slug="c", data=b"\xef\xbb\xbf" + jsonl(native())).prompts_created == 1


def test_rows_without_a_locale_take_the_campaigns_only_one_else_the_one_given(locales):
    CampaignFactory(slug="ja", locales=[locales[1]])
    trl = {"prompt": "Hi?", "chosen": "Hello.", "rejected": "Go away."}
    import_comparisons(campaign_slug="ja", data=jsonl(trl))
    assert Prompt.objects.get().locale.code == "ja-JP"
    CampaignFactory(slug="both", locales=list(locales))
    with pytest.raises(ImportRejected, match="line 1: locale: missing"):
        import_comparisons(campaign_slug="both", data=jsonl(trl))
    import_comparisons(campaign_slug="both", data=jsonl(trl), default_locale="en-US")
    assert Prompt.objects.get(campaign__slug="both").locale.code == "en-US"


def test_a_well_formed_new_locale_is_created_and_reported_a_malformed_one_refused(locales, capsys, tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_bytes(jsonl(native("p1", locale="pt-BR"), native("p2", locale="sr-Latn-RS")))
    call_command("import_comparisons", str(path), "--campaign", "c")
    assert "new locales: pt-BR, sr-Latn-RS" in capsys.readouterr().out
    with pytest.raises(ImportRejected) as rejected:
        import_comparisons(campaign_slug="c", data=jsonl(native("p3", locale="en_US"), native("p4", locale="EN-us")))
    assert rejected.value.errors == [
        "line 1: locale: 'en_US' is not a well-formed BCP 47 tag (e.g. en-US)",
        "line 2: locale: 'EN-us' is not in canonical form: write 'en-US'",
    ]


def test_the_upload_page_offers_the_default_locale_as_a_choice(locales, client_for, lena):
    page = client_for(lena).get(reverse("import_upload")).content.decode()
    assert "The campaign&#x27;s, when it has exactly one" in page and '<option value="ja-JP">' in page
