from __future__ import annotations


def test_a_reviewer_signs_in_and_sees_their_campaigns(page, live_server, alice, sign_in, screenshot):
    page.goto(live_server.url + "/")
    assert page.is_visible("text=Sign in to Verdict")
    sign_in(page, "alice")
    assert page.is_visible("text=Your campaigns")
    screenshot(page, "home")
