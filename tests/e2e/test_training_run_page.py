"""The run page in a browser: the log follows its newest line as the progress card polls itself."""

from __future__ import annotations

import pytest
from django.utils import timezone

from annotate.models import DatasetSnapshot
from tests.factories import TrainingRunFactory
from training.models import TrainingRun


@pytest.fixture
def running_run(db, tmp_path):
    snapshot = DatasetSnapshot.objects.create(version=1, path=str(tmp_path), manifest={}, manifest_sha256="0" * 64)
    log = "\n".join(f"10:00:{i % 60:02d} step {i}/200 loss=0.69" for i in range(1, 81))
    return TrainingRunFactory(
        snapshot=snapshot,
        status=TrainingRun.Status.RUNNING,
        step=80,
        total_steps=200,
        heartbeat_at=timezone.now(),
        log=log,
    )


SCROLLED_TO_END = "(() => { const pre = document.querySelector('#run-log pre');"
SCROLLED_TO_END += " return pre && pre.scrollHeight > pre.clientHeight"
SCROLLED_TO_END += " && pre.scrollHeight - pre.scrollTop - pre.clientHeight < 8; })()"


def test_the_log_follows_its_newest_line_while_the_run_reports(
    page, live_server, sign_in, screenshot, lena, running_run
):
    sign_in(page, "lena")
    page.goto(f"{live_server.url}/training/runs/{running_run.id}/")
    page.wait_for_function(SCROLLED_TO_END)
    assert page.inner_text("#run-log pre").splitlines()[-1].endswith("step 80/200 loss=0.69")

    # The worker reports more lines; the next poll swaps the card in and the log is at its newest line again.
    lines = running_run.log + "".join(f"\n10:01:{i % 60:02d} step {i}/200 loss=0.68" for i in range(81, 121))
    TrainingRun.objects.filter(id=running_run.id).update(log=lines, step=120, heartbeat_at=timezone.now())
    page.wait_for_selector("#run-progress[data-step='120']")
    page.wait_for_function(SCROLLED_TO_END)
    assert page.inner_text("#run-log pre").splitlines()[-1].endswith("step 120/200 loss=0.68")
    screenshot(page, "training-run-log-follows")
