import pytest

from training.engine import ConfigError, EngineConfig


def _base(tiny_model_dir, tmp_path, **overrides):
    return {"model_dir": tiny_model_dir, "output_dir": str(tmp_path / "out"), **overrides}


def test_it_accepts_a_minimal_config_and_round_trips(tiny_model_dir, tmp_path):
    config = EngineConfig.from_dict(_base(tiny_model_dir, tmp_path))
    assert config.validate() == []
    assert EngineConfig.from_dict(config.to_dict()) == config


def test_it_lists_every_bad_field_at_once(tiny_model_dir, tmp_path):
    with pytest.raises(ConfigError) as caught:
        EngineConfig.from_dict(
            _base(tiny_model_dir, tmp_path, beta=0, loss_type="sigmoidd", batch_size=0, lr_scheduler="step")
        )
    errors = caught.value.errors
    assert any(e.startswith("beta: must be in (0, 10]") for e in errors)
    assert any("unknown loss 'sigmoidd'" in e and "rao_kupper" in e for e in errors)
    assert any(e.startswith("batch_size:") for e in errors)
    assert any(e.startswith("lr_scheduler:") for e in errors)
    assert len(errors) == 4


def test_it_rejects_unknown_settings_by_name(tiny_model_dir, tmp_path):
    with pytest.raises(ConfigError, match="learning_rat: unknown setting"):
        EngineConfig.from_dict(_base(tiny_model_dir, tmp_path, learning_rat=1e-4))


def test_it_names_a_missing_model_dir(tmp_path):
    with pytest.raises(ConfigError, match=r"model_dir: .*nowhere is not a directory"):
        EngineConfig.from_dict({"model_dir": str(tmp_path / "nowhere"), "output_dir": str(tmp_path / "out")})


def test_it_requires_model_and_output_dirs():
    with pytest.raises(ConfigError) as caught:
        EngineConfig.from_dict({})
    assert caught.value.errors == ["model_dir: required", "output_dir: required"]


@pytest.mark.parametrize(
    ("loss", "strength", "message"),
    [
        ("rao_kupper", 1.0, r"rao_kupper needs θ in \(1, 100\]"),
        ("davidson", 0.0, r"tie_strength: must be in \(0, 100\]"),
        ("davidson", 101.0, r"tie_strength: must be in \(0, 100\]"),
        ("sigmoid", 2.0, "only used by a tie-aware loss"),
    ],
)
def test_it_checks_tie_strength_for_the_loss(tiny_model_dir, tmp_path, loss, strength, message):
    with pytest.raises(ConfigError, match=message):
        EngineConfig.from_dict(_base(tiny_model_dir, tmp_path, loss_type=loss, tie_strength=strength))


def test_tie_losses_get_a_default_strength(tiny_model_dir, tmp_path):
    assert EngineConfig.from_dict(_base(tiny_model_dir, tmp_path, loss_type="rao_kupper")).resolved_tie_strength == 2.0
    assert EngineConfig.from_dict(_base(tiny_model_dir, tmp_path, loss_type="davidson")).resolved_tie_strength == 1.0


def test_it_checks_loss_weights_against_loss_types(tiny_model_dir, tmp_path):
    with pytest.raises(ConfigError, match="2 weights for 1 loss types"):
        EngineConfig.from_dict(_base(tiny_model_dir, tmp_path, loss_type=["sigmoid"], loss_weights=[1.0, 1.0]))
    config = EngineConfig.from_dict(_base(tiny_model_dir, tmp_path, loss_type=["sigmoid", "sft"]))
    assert config.resolved_loss_weights == [1.0, 1.0]


def test_label_smoothing_auto_is_only_for_robust(tiny_model_dir, tmp_path):
    with pytest.raises(ConfigError, match='"auto" is only for the robust loss'):
        EngineConfig.from_dict(_base(tiny_model_dir, tmp_path, label_smoothing="auto"))
    with pytest.raises(ConfigError, match="has no effect on sigmoid"):
        EngineConfig.from_dict(_base(tiny_model_dir, tmp_path, label_smoothing=0.1))
    assert EngineConfig.from_dict(_base(tiny_model_dir, tmp_path, loss_type="robust", label_smoothing="auto"))
    with pytest.raises(ConfigError, match='"auto" is only for the robust loss'):  # auto may be 0: exo_pair needs > 0
        EngineConfig.from_dict(
            _base(tiny_model_dir, tmp_path, loss_type=["robust", "exo_pair"], label_smoothing="auto")
        )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("model_dir", ["a"]),
        ("loss_type", 5),
        ("loss_type", [{"a": 1}]),
        ("loss_weights", 1.0),
        ("batch_size", "8"),
        ("gradient_checkpointing", "yes"),
        ("tie_strength", "big"),
        ("label_smoothing", [0.1]),
        ("target_modules", []),
    ],
)
def test_values_of_the_wrong_type_are_config_errors_not_crashes(tiny_model_dir, tmp_path, field, value):
    with pytest.raises(ConfigError) as caught:
        EngineConfig.from_dict(_base(tiny_model_dir, tmp_path, **{field: value}))
    assert any(e.startswith(f"{field}:") for e in caught.value.errors)
