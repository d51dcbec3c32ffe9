"""training.engine.losses against TRL 1.16's own loss code, and the tie losses against their probability models.

TRL 1.16 has no standalone loss function: the formulas live inline in ``DPOTrainer._compute_loss``. We run that
very method on a bare ``DPOTrainer.__new__`` instance whose "model" is a stub returning per-token log-probs built
from our sequence log-probs (with precomputed reference log-probs), so the comparison is with TRL's code path,
not a transcription of it. The real-model comparison lives in test_trl_parity.py.
"""

from __future__ import annotations

import math
from collections import defaultdict
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from training.engine.loss_table import LOSSES
from training.engine.losses import (
    BATCH_LEVEL_LOSS_TYPES,
    LABEL_SMOOTHING_LOSS_TYPES,
    LENGTH_NORMALISED_LOSS_TYPES,
    LOSS_TYPES,
    MAX_AUTO_LABEL_SMOOTHING,
    TIE_LOSS_TYPES,
    TRL_LOSS_TYPES,
    auto_label_smoothing,
    preference_loss,
)

LN2 = math.log(2.0)


# --- TRL's loss code, reached without a model -------------------------------------------------------------------


class _IdentityAccelerator:
    device = torch.device("cpu")

    @staticmethod
    def gather(tensor):
        return tensor

    gather_for_metrics = gather


class _StubModel:
    """Stands in for the policy: returns fixed per-token log-probs, as TRL's fused LM head would."""

    training = True

    def __init__(self, per_token_logps: torch.Tensor):
        self.per_token_logps = per_token_logps

    def __call__(self, **_kwargs):
        shape = self.per_token_logps.shape
        return SimpleNamespace(
            log_probs=self.per_token_logps,
            entropy=torch.zeros(shape),
            mean_logits=torch.zeros(shape),
            is_top1=torch.zeros(shape, dtype=torch.bool),
        )


def trl_batch_loss(
    policy_chosen,
    policy_rejected,
    ref_chosen,
    ref_rejected,
    *,
    loss_type,
    beta,
    label_smoothing=0.0,
    chosen_lengths,
    rejected_lengths,
    discopop_tau=0.05,
):
    """TRL 1.16's batch loss for these sequence log-probs, computed by ``DPOTrainer._compute_loss`` itself."""
    from trl.trainer.dpo_trainer import DPOTrainer

    batch = policy_chosen.shape[0]
    lengths = torch.cat([chosen_lengths, rejected_lengths]).long()
    seq_len = int(lengths.max()) + 2
    # completion_mask marks n completion tokens after one prompt token; TRL counts them for ipo/sigmoid_norm.
    positions = torch.arange(seq_len)
    completion_mask = ((positions >= 1) & (positions <= lengths[:, None])).long()
    # The whole sequence log-prob sits on the first shifted position, zeros elsewhere: TRL sums over positions.
    sequence_logps = torch.cat([policy_chosen, policy_rejected])
    padding = torch.zeros(2 * batch, seq_len - 2, dtype=sequence_logps.dtype)
    per_token_logps = torch.cat([sequence_logps[:, None], padding], dim=1)

    trainer = DPOTrainer.__new__(DPOTrainer)
    trainer.model = _StubModel(per_token_logps)
    trainer.accelerator = _IdentityAccelerator()
    trainer.args = SimpleNamespace(discopop_tau=discopop_tau, gradient_checkpointing_kwargs=None)
    trainer.beta = beta
    trainer.label_smoothing = label_smoothing
    trainer.loss_types = [loss_type]
    trainer.loss_weights = [1.0]
    trainer.precompute_ref_logps = True
    trainer.ld_alpha = None
    trainer.f_divergence_type = "reverse_kl"
    trainer.f_alpha_divergence_coef = 0.5
    trainer.use_weighting = False
    trainer.aux_loss_enabled = False
    trainer._metrics = {"train": defaultdict(list), "eval": defaultdict(list)}
    trainer._total_train_tokens = 0
    trainer._tp_size = 1
    inputs = {
        "input_ids": torch.zeros(2 * batch, seq_len, dtype=torch.long),
        "attention_mask": torch.ones(2 * batch, seq_len, dtype=torch.long),
        "completion_mask": completion_mask,
        "ref_chosen_logps": ref_chosen,
        "ref_rejected_logps": ref_rejected,
    }
    return trainer._compute_loss(trainer.model, inputs, return_outputs=False)


def _options(loss_type: str) -> dict:
    return {"label_smoothing": 0.1 if loss_type in LABEL_SMOOTHING_LOSS_TYPES else 0.0}


def _random_logps(seed: int, batch: int, dtype=torch.float64, scale: float = 20.0):
    generator = torch.Generator().manual_seed(seed)
    # Policy near the reference, as in training; both well below zero like real summed log-probs.
    ref = -scale * torch.rand(2, batch, generator=generator, dtype=dtype) * 10
    policy = ref + scale * torch.randn(2, batch, generator=generator, dtype=dtype)
    lengths = torch.randint(0, 40, (2, batch), generator=generator)
    return policy, ref, lengths


@pytest.mark.parametrize("loss_type", TRL_LOSS_TYPES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_each_trl_loss_matches_trl_dpo_trainer_code(loss_type, seed):
    policy, ref, lengths = _random_logps(seed, batch=7)
    beta = [0.1, 0.5, 2.0][seed]
    options = _options(loss_type)

    ours = preference_loss(
        policy[0],
        policy[1],
        ref[0],
        ref[1],
        loss_type=loss_type,
        beta=beta,
        chosen_lengths=lengths[0],
        rejected_lengths=lengths[1],
        **options,
    )
    theirs = trl_batch_loss(
        policy[0],
        policy[1],
        ref[0],
        ref[1],
        loss_type=loss_type,
        beta=beta,
        chosen_lengths=lengths[0],
        rejected_lengths=lengths[1],
        **options,
    )

    assert ours.shape == (7,)
    torch.testing.assert_close(ours.mean(), theirs, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("loss_type", TRL_LOSS_TYPES)
def test_each_trl_loss_has_trl_gradients(loss_type):
    policy, ref, lengths = _random_logps(3, batch=5, scale=3.0)
    options = _options(loss_type)
    grads = []
    for batch_loss in (preference_loss, trl_batch_loss):
        leaf = policy.clone().requires_grad_(True)
        loss = batch_loss(
            leaf[0],
            leaf[1],
            ref[0],
            ref[1],
            loss_type=loss_type,
            beta=0.3,
            chosen_lengths=lengths[0],
            rejected_lengths=lengths[1],
            **options,
        )
        loss.mean().backward()
        grads.append(leaf.grad)
    torch.testing.assert_close(grads[0], grads[1], rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("loss_type", TRL_LOSS_TYPES)
def test_float32_losses_match_trl_to_float32_precision(loss_type):
    policy, ref, lengths = _random_logps(4, batch=8, dtype=torch.float32, scale=2.0)
    options = _options(loss_type)
    common = dict(loss_type=loss_type, beta=0.1, chosen_lengths=lengths[0], rejected_lengths=lengths[1])
    ours = preference_loss(policy[0], policy[1], ref[0], ref[1], **common, **options).mean()
    theirs = trl_batch_loss(policy[0], policy[1], ref[0], ref[1], **common, **options)
    torch.testing.assert_close(ours, theirs, rtol=1e-6, atol=1e-6)


@settings(max_examples=40, deadline=None)
@given(
    loss_type=st.sampled_from(TRL_LOSS_TYPES),
    seed=st.integers(0, 2**31 - 1),
    batch=st.integers(1, 9),
    beta=st.floats(0.01, 5.0),
    label_smoothing=st.floats(0.001, 0.45),
    scale=st.sampled_from([0.1, 3.0, 50.0]),
)
def test_trl_losses_match_trl_on_random_batches(loss_type, seed, batch, beta, label_smoothing, scale):
    policy, ref, lengths = _random_logps(seed, batch=batch, scale=scale)
    options = {
        "loss_type": loss_type,
        "beta": beta,
        "chosen_lengths": lengths[0],
        "rejected_lengths": lengths[1],
        "label_smoothing": label_smoothing if loss_type in LABEL_SMOOTHING_LOSS_TYPES else 0.0,
    }
    ours = preference_loss(*policy, *ref, **options).mean()
    theirs = trl_batch_loss(*policy, *ref, **options)
    # TRL takes log ε of a float32 tensor (exo_pair): ~1e-8 apart from our float64 log ε near a zero loss.
    torch.testing.assert_close(ours, theirs, rtol=1e-7, atol=1e-7)


@pytest.mark.parametrize("loss_type", sorted(set(LOSS_TYPES) - set(BATCH_LEVEL_LOSS_TYPES)))
def test_per_pair_losses_do_not_depend_on_the_rest_of_the_batch(loss_type):
    # bco_pair included: older TRL kept a running mean of rewards for it, TRL 1.16 does not.
    policy, ref, lengths = _random_logps(5, batch=6)
    options = _options(loss_type) | {"tie_strength": 2.0 if loss_type in TIE_LOSS_TYPES else None}
    whole = preference_loss(
        *policy, *ref, loss_type=loss_type, chosen_lengths=lengths[0], rejected_lengths=lengths[1], **options
    )
    for i in range(6):
        alone = preference_loss(
            *policy[:, i : i + 1],
            *ref[:, i : i + 1],
            loss_type=loss_type,
            chosen_lengths=lengths[0, i : i + 1],
            rejected_lengths=lengths[1, i : i + 1],
            **options,
        )
        torch.testing.assert_close(whole[i : i + 1], alone)


def test_aot_pairs_by_rank_so_only_its_batch_mean_is_order_free():
    policy, ref, _ = _random_logps(6, batch=6)
    order = torch.tensor([3, 0, 5, 1, 4, 2])
    for loss_type in ("aot", "aot_unpaired"):
        straight = preference_loss(*policy, *ref, loss_type=loss_type)
        shuffled = preference_loss(*policy[:, order], *ref[:, order], loss_type=loss_type)
        torch.testing.assert_close(straight, shuffled)  # element i belongs to rank i, not to input pair i


def test_sigmoid_loss_is_ln2_when_policy_equals_reference():
    logps = torch.tensor([-12.0, -3.5, -40.0])
    losses = preference_loss(logps, logps - 1, logps, logps - 1, loss_type="sigmoid")
    torch.testing.assert_close(losses, torch.full((3,), LN2))


def test_sigmoid_is_dpo_equation_by_hand():
    # π_c=-5, ρ_c=-6, π_r=-7, ρ_r=-6, β=0.5 → d = 0.5·(1 − (−1)) = 1
    loss = preference_loss(
        torch.tensor([-5.0]),
        torch.tensor([-7.0]),
        torch.tensor([-6.0]),
        torch.tensor([-6.0]),
        loss_type="sigmoid",
        beta=0.5,
    )
    torch.testing.assert_close(loss, torch.tensor([math.log1p(math.exp(-1.0))]))


def test_length_normalised_losses_clamp_empty_completions_to_one_token():
    one = torch.tensor([-2.0])
    zero = torch.tensor([0.0])
    for loss_type in LENGTH_NORMALISED_LOSS_TYPES:
        empty = preference_loss(
            one,
            zero,
            zero,
            zero,
            loss_type=loss_type,
            chosen_lengths=torch.tensor([0]),
            rejected_lengths=torch.tensor([0]),
        )
        single = preference_loss(
            one,
            zero,
            zero,
            zero,
            loss_type=loss_type,
            chosen_lengths=torch.tensor([1]),
            rejected_lengths=torch.tensor([1]),
        )
        torch.testing.assert_close(empty, single)


# --- Tie losses ---------------------------------------------------------------------------------------------------


def _tie_losses(d: torch.Tensor, loss_type: str, strength: float, *, tie: bool) -> torch.Tensor:
    """Loss with margin d (β = 1, only π_c moves)."""
    zeros = torch.zeros_like(d)
    return preference_loss(
        d,
        zeros,
        zeros,
        zeros,
        loss_type=loss_type,
        beta=1.0,
        tie_strength=strength,
        is_tie=torch.full_like(d, tie, dtype=torch.bool),
    )


def _outcome_probabilities(d: torch.Tensor, loss_type: str, strength: float):
    win = torch.exp(-_tie_losses(d, loss_type, strength, tie=False))
    lose = torch.exp(-_tie_losses(-d, loss_type, strength, tie=False))  # the rejected answer winning
    tie = torch.exp(-_tie_losses(d, loss_type, strength, tie=True))
    return win, lose, tie


def test_rao_kupper_matches_its_strength_model_by_hand():
    # Rao & Kupper 1967 with strengths π_c = e^d, π_r = 1: P(c ≻ r) = π_c/(π_c + θπ_r),
    # P(tie) = (θ² − 1)π_cπ_r / ((π_c + θπ_r)(θπ_c + π_r)).
    theta, d = 2.0, 1.0
    pi_c, pi_r = math.exp(d), 1.0
    p_win = pi_c / (pi_c + theta * pi_r)
    p_tie = (theta**2 - 1) * pi_c * pi_r / ((pi_c + theta * pi_r) * (theta * pi_c + pi_r))
    win, _, tie = _outcome_probabilities(torch.tensor([d], dtype=torch.float64), "rao_kupper", theta)
    assert win.item() == pytest.approx(p_win, rel=1e-12)
    assert tie.item() == pytest.approx(p_tie, rel=1e-12)


def test_davidson_matches_its_strength_model_by_hand():
    # Davidson 1970: P(c ≻ r) = π_c/(π_c + π_r + ν√(π_cπ_r)), P(tie) = ν√(π_cπ_r)/(same denominator).
    nu, d = 0.7, -1.5
    pi_c, pi_r = math.exp(d), 1.0
    denominator = pi_c + pi_r + nu * math.sqrt(pi_c * pi_r)
    win, lose, tie = _outcome_probabilities(torch.tensor([d], dtype=torch.float64), "davidson", nu)
    assert win.item() == pytest.approx(pi_c / denominator, rel=1e-12)
    assert lose.item() == pytest.approx(pi_r / denominator, rel=1e-12)
    assert tie.item() == pytest.approx(nu * math.sqrt(pi_c * pi_r) / denominator, rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    d=st.floats(-40.0, 40.0),
    loss_type=st.sampled_from(TIE_LOSS_TYPES),
    excess=st.floats(1e-3, 20.0),
)
def test_win_lose_and_tie_probabilities_sum_to_one(d, loss_type, excess):
    strength = 1.0 + excess if loss_type == "rao_kupper" else excess
    win, lose, tie = _outcome_probabilities(torch.tensor([d], dtype=torch.float64), loss_type, strength)
    assert (win + lose + tie).item() == pytest.approx(1.0, abs=1e-12)
    assert min(win.item(), lose.item(), tie.item()) >= 0.0


@settings(max_examples=40, deadline=None)
@given(d=st.floats(-50.0, 50.0), loss_type=st.sampled_from(TIE_LOSS_TYPES), excess=st.floats(1e-3, 20.0))
def test_tie_loss_is_symmetric_and_smallest_at_zero_margin(d, loss_type, excess):
    # A tie says neither answer is better: the loss pulls d towards 0 from either side.
    strength = 1.0 + excess if loss_type == "rao_kupper" else excess
    margins = torch.tensor([d, -d, 0.0], dtype=torch.float64)
    at_d, at_minus_d, at_zero = _tie_losses(margins, loss_type, strength, tie=True)
    assert at_d.item() == pytest.approx(at_minus_d.item(), rel=1e-12, abs=1e-12)
    assert at_zero <= at_d


def test_tie_losses_apply_the_tie_term_only_to_tied_pairs():
    d = torch.tensor([0.3, 0.3])
    zeros = torch.zeros(2)
    for loss_type, strength in (("rao_kupper", 1.5), ("davidson", 1.0)):
        mixed = preference_loss(
            d,
            zeros,
            zeros,
            zeros,
            loss_type=loss_type,
            beta=1.0,
            tie_strength=strength,
            is_tie=torch.tensor([False, True]),
        )
        assert mixed[0] == _tie_losses(d[:1], loss_type, strength, tie=False)
        assert mixed[1] == _tie_losses(d[:1], loss_type, strength, tie=True)
        no_ties = preference_loss(d, zeros, zeros, zeros, loss_type=loss_type, beta=1.0, tie_strength=strength)
        torch.testing.assert_close(no_ties, mixed[:1].expand(2))


def test_tie_losses_reduce_to_dpo_without_tie_mass():
    # θ → 1 and ν → 0 leave no probability for ties: both become −logσ(d).
    policy, ref, _ = _random_logps(7, batch=5)
    dpo = preference_loss(*policy, *ref, loss_type="sigmoid")
    for loss_type, strength in (("rao_kupper", 1.0 + 1e-12), ("davidson", 1e-12)):
        ties = preference_loss(*policy, *ref, loss_type=loss_type, tie_strength=strength)
        torch.testing.assert_close(ties, dpo, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("loss_type", LOSS_TYPES)
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_losses_stay_finite_with_finite_gradients_at_huge_margins(loss_type, sign):
    # β = 0.1 and a log-ratio gap of 1e5 gives |d| = 1e4 (float32, as in training).
    policy = torch.tensor([[sign * 5e4, sign * 5e4], [-sign * 5e4, -sign * 5e4]], requires_grad=True)
    ref = torch.zeros(2, 2)
    options = _options(loss_type) | {
        "chosen_lengths": torch.tensor([3, 1]),
        "rejected_lengths": torch.tensor([2, 1]),
        "tie_strength": 2.0 if loss_type in TIE_LOSS_TYPES else None,
        "is_tie": torch.tensor([True, False]) if loss_type in TIE_LOSS_TYPES else None,
    }
    losses = preference_loss(policy[0], policy[1], ref[0], ref[1], loss_type=loss_type, beta=0.1, **options)
    losses.mean().backward()
    assert torch.isfinite(losses).all(), losses
    assert torch.isfinite(policy.grad).all(), policy.grad


def test_tie_loss_of_a_huge_margin_is_its_exact_asymptote():
    # −log P(tie) ≈ |d|/2 − log ν for Davidson and |d| + log θ − log(θ² − 1) for Rao–Kupper.
    d = torch.tensor([1e4, -1e4])
    davidson = _tie_losses(d, "davidson", 0.5, tie=True)
    rao_kupper = _tie_losses(d, "rao_kupper", 2.0, tie=True)
    torch.testing.assert_close(davidson, torch.full((2,), 5e3 - math.log(0.5)))
    torch.testing.assert_close(rao_kupper, torch.full((2,), 1e4 + math.log(2.0) - math.log(3.0)))


def test_discopop_matches_trl_form_where_trl_does_not_overflow():
    d = torch.linspace(-20, 20, 81, dtype=torch.float64)
    zeros = torch.zeros_like(d)
    ours = preference_loss(d, zeros, zeros, zeros, loss_type="discopop", beta=1.0, discopop_tau=0.05)
    modulation = torch.sigmoid(d / 0.05)
    textbook = -F.logsigmoid(d) * (1 - modulation) + torch.exp(-d) * modulation
    torch.testing.assert_close(ours, textbook, rtol=1e-12, atol=1e-15)


# --- Errors -------------------------------------------------------------------------------------------------------

ONE = torch.tensor([-1.0])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"loss_type": "dpo"}, "loss_type: unknown loss 'dpo'"),
        ({"loss_type": "rao_kupper", "tie_strength": 1.0}, r"tie_strength: rao_kupper needs θ in \(1, 100\]"),
        ({"loss_type": "davidson", "tie_strength": 0.0}, r"tie_strength: davidson needs ν in \(0, 100\]"),
        ({"loss_type": "davidson", "tie_strength": math.inf}, "davidson needs ν in .*, got inf"),
        ({"loss_type": "ipo"}, "pass chosen_lengths and rejected_lengths"),
        ({"loss_type": "sigmoid", "label_smoothing": 0.1}, "label_smoothing: 0.1 has no effect on sigmoid"),
        ({"loss_type": "exo_pair"}, r"label_smoothing: exo_pair needs ε in \(0, 1\)"),
        ({"loss_type": "robust", "label_smoothing": 0.5}, r"label_smoothing: robust needs ε in \[0, 0.5\)"),
        ({"loss_type": "sigmoid", "beta": 0.0}, r"beta: must be in \(0, 10\]"),
        ({"loss_type": "sigmoid", "beta": 1e9}, r"beta: must be in \(0, 10\]"),
        ({"loss_type": "sigmoid", "is_tie": torch.tensor([True])}, "'sigmoid' cannot learn from ties"),
    ],
)
def test_it_rejects_options_the_loss_cannot_use(options, message):
    with pytest.raises(ValueError, match=message):
        preference_loss(ONE, ONE, ONE, ONE, **options)


@pytest.mark.parametrize("loss_type", TIE_LOSS_TYPES)
def test_a_tie_loss_without_a_strength_uses_the_schemas_default(loss_type):
    default = LOSSES[loss_type].default_tie_strength
    implicit = preference_loss(ONE, ONE, ONE, ONE, loss_type=loss_type, is_tie=torch.tensor([True]))
    explicit = preference_loss(
        ONE, ONE, ONE, ONE, loss_type=loss_type, is_tie=torch.tensor([True]), tie_strength=default
    )
    torch.testing.assert_close(implicit, explicit)


def test_a_non_tie_loss_accepts_an_all_false_tie_mask():
    loss = preference_loss(ONE, ONE, ONE, ONE, loss_type="sigmoid", is_tie=torch.tensor([False]))
    torch.testing.assert_close(loss, torch.tensor([LN2]))


# --- auto_label_smoothing -----------------------------------------------------------------------------------------


def test_auto_label_smoothing_is_one_minus_mean_agreement():
    assert auto_label_smoothing([0.9, 0.8, 1.0]) == pytest.approx(0.1)


def test_auto_label_smoothing_is_zero_for_unanimous_labels():
    assert auto_label_smoothing([1.0, 1.0]) == 0.0


def test_auto_label_smoothing_stays_below_one_half():
    assert auto_label_smoothing([0.2, 0.3]) == MAX_AUTO_LABEL_SMOOTHING < 0.5


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=30))
def test_auto_label_smoothing_is_a_valid_robust_epsilon(agreements):
    epsilon = auto_label_smoothing(agreements)
    assert 0.0 <= epsilon < 0.5
    losses = preference_loss(ONE, ONE - 1, ONE, ONE, loss_type="robust", label_smoothing=epsilon)
    assert torch.isfinite(losses).all()


@pytest.mark.parametrize(("agreements", "message"), [([], "at least one"), ([1.2], r"\[0, 1\]")])
def test_auto_label_smoothing_rejects_bad_input(agreements, message):
    with pytest.raises(ValueError, match=message):
        auto_label_smoothing(agreements)
