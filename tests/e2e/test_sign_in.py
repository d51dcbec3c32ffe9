from __future__ import annotations


def test_a_reviewer_signs_in_and_sees_their_campaigns(page, live_server, alice, sign_in, screenshot):
    page.goto(live_server.url + "/")
    assert page.is_visible("text=Sign in to Verdict")
    sign_in(page, "alice")
    assert page.is_visible("text=Your campaigns")
    screenshot(page, "home")


def test_repeated_wrong_passwords_pause_sign_in_with_a_page_saying_when(page, live_server, alice, screenshot):
    for _ in range(5):
        page.goto(live_server.url + "/")
        page.fill("input[name=username]", "alice")
        page.fill("input[name=password]", "wrong")
        page.click("button[type=submit]")
    assert page.is_visible("text=Too many failed sign-ins")
    assert page.is_visible("text=Try again after")
    screenshot(page, "sign-in-locked")


def test_a_reviewer_creates_a_token_sees_it_once_and_revokes_it(page, live_server, alice, sign_in, screenshot):
    sign_in(page, "alice")
    page.click("text=API tokens")
    page.click("text=Create a token")
    key = page.inner_text(".token-key")
    assert len(key) == 64
    screenshot(page, "api-token-created")
    page.goto(live_server.url + "/account/tokens/")
    assert key not in page.content() and key[:15] in page.content()
    page.click("text=Revoke")
    assert page.is_visible("text=You have no tokens yet")
