"""The engine learns: a rule-following task and tied pairs, on CPU with the tiny model."""

from tests.engine.conftest import rule_pairs, tie_pairs
from training.engine import NullReporter, train_dpo


def test_held_out_preference_accuracy_rises_from_chance_to_at_least_90_percent(make_config):
    config = make_config(max_steps=20, batch_size=16, lora_r=16, lora_alpha=32, num_samples=0)
    result = train_dpo(config, rule_pairs(256, seed=1), rule_pairs(64, seed=2), NullReporter())
    report = result.eval_report
    assert 0.3 <= report["reference_preference_accuracy"] <= 0.7  # the reference ignores the instruction
    assert report["preference_accuracy"] >= 0.9
    assert report["reward_margin"] > 0


def test_tie_aware_loss_shrinks_margins_on_held_out_ties_compared_with_sigmoid(make_config, tmp_path):
    train, ties = rule_pairs(128, seed=1), tie_pairs(128, seed=3)
    held_out = rule_pairs(32, seed=2) + tie_pairs(32, seed=4)
    # beta 0.5: margins grow fast enough for the tie term to matter within a few dozen steps
    settings = dict(max_steps=40, learning_rate=5e-3, beta=0.5, batch_size=16, lora_r=16, lora_alpha=32, num_samples=0)
    sigmoid = train_dpo(
        make_config(output_dir=str(tmp_path / "sigmoid"), **settings), train, held_out, NullReporter(), ties=ties
    )
    tie_aware = train_dpo(
        make_config(output_dir=str(tmp_path / "rk"), loss_type="rao_kupper", **settings),
        train,
        held_out,
        NullReporter(),
        ties=ties,
    )
    assert sigmoid.eval_report["ties"]["count"] == tie_aware.eval_report["ties"]["count"] == 32
    assert tie_aware.eval_report["ties"]["abs_margin"] < 0.6 * sigmoid.eval_report["ties"]["abs_margin"]
    assert tie_aware.eval_report["preference_accuracy"] >= 0.9  # ties did not cost the preferences
