import io

from training.engine import ConsoleReporter, NullReporter, Reporter


def test_both_reporters_satisfy_the_protocol():
    assert isinstance(NullReporter(), Reporter) and isinstance(ConsoleReporter(io.StringIO()), Reporter)
    assert NullReporter().should_stop() is False


def test_console_reporter_draws_a_bar_and_prints_eval_and_checkpoint_lines():
    stream = io.StringIO()
    reporter = ConsoleReporter(stream)
    reporter.start(total_steps=4)
    reporter.log(1, {"loss": 0.69, "rewards/accuracies": 0.5, "pairs_per_s": 10.0})
    reporter.log(2, {"loss": 0.5, "eval/loss": 0.55, "eval/rewards/accuracies": 0.75})
    reporter.checkpoint(2, "/tmp/out/checkpoints/step-000002")
    reporter.close()
    text = stream.getvalue()
    assert "step 2: eval/loss=0.55, eval/rewards/accuracies=0.75" in text
    assert "checkpoint saved to /tmp/out/checkpoints/step-000002" in text
    assert "2/4" in text


def test_console_reporter_without_a_bar_prints_one_line_per_step():
    stream = io.StringIO()
    reporter = ConsoleReporter(stream, progress=False)
    reporter.start(total_steps=2)
    reporter.log(1, {"loss": 0.6931, "rewards/accuracies": 0.0, "pairs_per_s": 3.5})
    assert stream.getvalue() == "step 1: loss=0.6931 acc=0.00 pairs/s=3.5\n"
