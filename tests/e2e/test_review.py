"""A reviewer judges five pairs with the keyboard alone; the next pair swaps in without a page load."""

from __future__ import annotations

from annotate.models import Assignment, Judgment, Outcome
from tests.annotate.review_helpers import campaign_with_pairs, rubric_with
from tests.factories import ComparisonFactory, PromptFactory


def current_assignment(page) -> str:
    return page.get_attribute("#compare", "data-assignment")


def submit_and_wait(page, key: str = "Enter") -> None:
    before = current_assignment(page)
    page.keyboard.press(key)
    page.wait_for_function("(before) => document.querySelector('#compare')?.dataset.assignment !== before", arg=before)


def test_a_reviewer_judges_five_pairs_with_the_keyboard(page, live_server, alice, sign_in, screenshot):
    rubric = rubric_with(
        {"key": "accuracy", "label": "Accuracy", "description": "Facts are right.", "scale": 5},
        {"key": "clarity", "label": "Clarity", "description": "Easy to follow.", "scale": 3},
    )
    campaign, pairs = campaign_with_pairs(6, overlap=1, rubric=rubric)
    conversation = PromptFactory(
        campaign=campaign,
        locale=pairs[0].prompt.locale,
        messages=[
            {"role": "system", "content": "You are a concise assistant."},
            {"role": "user", "content": "What is the capital of France?"},
        ],
    )
    ComparisonFactory(prompt=conversation)

    sign_in(page, "alice")
    page.goto(f"{live_server.url}/review/{campaign.slug}/")
    page.wait_for_selector("#judge-form")
    page.evaluate("window.reviewMarker = 'same page'")

    page.keyboard.press("?")
    assert page.is_visible("#shortcuts")
    page.keyboard.press("?")
    assert not page.is_visible("#shortcuts")
    page.keyboard.press("g")
    assert page.is_visible("text=Pick the better answer.")
    screenshot(page, "review-compare")

    page.keyboard.press("1")
    page.keyboard.press("x")
    submit_and_wait(page)
    assert page.is_visible("text=Saved.") and page.is_visible("text=Today: 1")

    page.keyboard.press("2")
    page.keyboard.press("c")
    submit_and_wait(page)

    page.keyboard.press("t")
    submit_and_wait(page)

    page.keyboard.press("b")  # both bad: the critique box takes focus, keys type text there
    page.keyboard.type("Both get the date wrong.")
    page.keyboard.press("Escape")
    submit_and_wait(page)

    page.keyboard.press("e")
    page.keyboard.type("Is this a medical question?")
    submit_and_wait(page, "Control+Enter")
    assert page.is_visible("text=Today: 5")

    last_judged = Judgment.objects.filter(reviewer=alice).latest("id").assignment_id
    submit_and_wait(page, "u")  # undo: the escalated pair comes back with its critique
    assert current_assignment(page) == str(last_judged)
    assert page.input_value("textarea[name=critique]") == "Is this a medical question?"
    assert Judgment.objects.filter(reviewer=alice).count() == 4
    submit_and_wait(page)  # submitted again as it was
    submit_and_wait(page, "s")  # skip gives the pair back

    assert page.evaluate("window.reviewMarker") == "same page", "the page reloaded instead of swapping"
    judgments = Judgment.objects.filter(reviewer=alice).order_by("id")
    assert [j.outcome for j in judgments][2:] == [Outcome.TIE, Outcome.BOTH_BAD, Outcome.ESCALATE]
    assert {judgments[0].strength, judgments[1].strength} == {"clear", "strong"}
    assert judgments[3].critique == "Both get the date wrong."
    assert all(j.time_taken_ms > 0 for j in judgments)
    assert Assignment.objects.filter(reviewer=alice, state=Assignment.State.RELEASED).count() == 1
