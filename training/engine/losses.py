"""Preference losses on sequence log-probabilities, one small function per loss type.

Every TRL 1.16 ``DPOTrainer`` loss that works on summed sequence log-probs is here with TRL's current formula
(``sft`` is not: it needs per-token log-probs, and the training loop adds it itself), plus two tie-aware losses
from Chen et al. 2024, "On Extending Direct Preference Optimisation to Accommodate Ties".

Notation, per pair i of a batch of B pairs (all tensors shape (B,)):
    π_c, π_r   summed log-probs of the chosen / rejected completion under the policy
    ρ_c, ρ_r   the same under the reference model
    u_c = π_c − ρ_c, u_r = π_r − ρ_r      (log-ratios; β·u are TRL's ``rewards/chosen`` and ``rewards/rejected``)
    d = β·(u_c − u_r)                      (the DPO margin)

``preference_loss`` returns per-pair losses (B,); the training loss is their mean, exactly as TRL takes
``per_sequence_loss.mean()``. Two TRL losses are batch-level: ``aot`` and ``aot_unpaired`` sort log-ratios across
the batch and pair them by rank, so element i of their result is the loss of the i-th rank-matched pair, not of
input pair i; only the batch mean is meaningful (and equals TRL's batch loss). ``bco_pair`` in TRL 1.16 no longer
keeps a running mean of rewards: it is a plain per-pair loss. Nor does TRL 1.16's ``sigmoid`` read
``label_smoothing`` any more (only robust, exo_pair and the aot losses do), so here a non-zero ε on any other loss
is an error rather than a silently ignored setting.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from training.engine import loss_table
from training.engine.settings_schema import SETTINGS

__all__ = [
    "BATCH_LEVEL_LOSS_TYPES",
    "LABEL_SMOOTHING_LOSS_TYPES",
    "LENGTH_NORMALISED_LOSS_TYPES",
    "LOSS_TYPES",
    "MAX_AUTO_LABEL_SMOOTHING",
    "TIE_LOSS_TYPES",
    "TRL_LOSS_TYPES",
    "auto_label_smoothing",
    "preference_loss",
]

# auto_label_smoothing never returns 0.5 or more: at ε = 0.5 the robust loss divides by zero.
MAX_AUTO_LABEL_SMOOTHING = 0.49


@dataclass(frozen=True)
class _Pairs:
    """The inputs every loss function reads; tensors are shape (B,)."""

    policy_chosen: Tensor
    policy_rejected: Tensor
    ref_chosen: Tensor
    ref_rejected: Tensor
    beta: float
    label_smoothing: float
    chosen_lengths: Tensor | None
    rejected_lengths: Tensor | None
    is_tie: Tensor | None
    tie_strength: float | None
    discopop_tau: float

    @property
    def chosen_logratios(self) -> Tensor:
        return self.policy_chosen - self.ref_chosen  # u_c

    @property
    def rejected_logratios(self) -> Tensor:
        return self.policy_rejected - self.ref_rejected  # u_r

    @property
    def margin(self) -> Tensor:
        return self.beta * (self.chosen_logratios - self.rejected_logratios)  # d = β(u_c − u_r)

    def per_token_gap(self) -> Tensor:
        """u_c/n_c − u_r/n_r with n the completion token counts, clamped to ≥ 1 as TRL does."""
        n_c = self.chosen_lengths.to(self.policy_chosen.dtype).clamp(min=1.0)
        n_r = self.rejected_lengths.to(self.policy_chosen.dtype).clamp(min=1.0)
        return self.chosen_logratios / n_c - self.rejected_logratios / n_r

    def ties(self) -> Tensor:
        if self.is_tie is None:
            return torch.zeros_like(self.policy_chosen, dtype=torch.bool)
        return self.is_tie.to(device=self.policy_chosen.device, dtype=torch.bool)


def _smoothed_logistic(d: Tensor, eps: float) -> Tensor:
    """−(1−ε)·logσ(d) − ε·logσ(−d): the logistic loss with labels flipped with probability ε."""
    return -(1 - eps) * F.logsigmoid(d) - eps * F.logsigmoid(-d)


def _sigmoid(p: _Pairs) -> Tensor:
    """DPO (Rafailov et al. 2023): −logσ(d)."""
    return -F.logsigmoid(p.margin)


def _hinge(p: _Pairs) -> Tensor:
    """SLiC: max(0, 1 − d)."""
    return torch.relu(1 - p.margin)


def _ipo(p: _Pairs) -> Tensor:
    """IPO (Azar et al. 2023, eq. 17) on per-token log-ratios: (u_c/n_c − u_r/n_r − 1/(2β))²."""
    return (p.per_token_gap() - 1 / (2 * p.beta)) ** 2


def _exo_pair(p: _Pairs) -> Tensor:
    """EXO-pref (Ji et al. 2024, eq. 16): KL(q ‖ [1−ε, ε]) with q = [σ(d), σ(−d)]."""
    d = p.margin
    eps = p.label_smoothing
    win = torch.sigmoid(d) * (F.logsigmoid(d) - math.log1p(-eps))
    lose = torch.sigmoid(-d) * (F.logsigmoid(-d) - math.log(eps))
    return win + lose


def _nca_pair(p: _Pairs) -> Tensor:
    """NCA (Chen et al. 2024): −logσ(βu_c) − ½logσ(−βu_c) − ½logσ(−βu_r)."""
    chosen = p.beta * p.chosen_logratios
    rejected = p.beta * p.rejected_logratios
    return -F.logsigmoid(chosen) - 0.5 * F.logsigmoid(-chosen) - 0.5 * F.logsigmoid(-rejected)


def _robust(p: _Pairs) -> Tensor:
    """Robust DPO (Chowdhury et al. 2024): [−(1−ε)logσ(d) + ε·logσ(−d)] / (1 − 2ε)."""
    d = p.margin
    eps = p.label_smoothing
    return (-(1 - eps) * F.logsigmoid(d) + eps * F.logsigmoid(-d)) / (1 - 2 * eps)


def _bco_pair(p: _Pairs) -> Tensor:
    """BCO on pairs, as TRL 1.16 has it (no running reward mean): −logσ(βu_c) − logσ(−βu_r)."""
    return -F.logsigmoid(p.beta * p.chosen_logratios) - F.logsigmoid(-p.beta * p.rejected_logratios)


def _sppo_hard(p: _Pairs) -> Tensor:
    """SPPO with hard win probabilities: (u_c − 1/(2β))² + (u_r + 1/(2β))²."""
    half_inverse_beta = 0.5 / p.beta
    return (p.chosen_logratios - half_inverse_beta) ** 2 + (p.rejected_logratios + half_inverse_beta) ** 2


def _aot(p: _Pairs) -> Tensor:
    """AOT paired (Melnyk et al. 2024): sort π_c − π_r and ρ_c − ρ_r across the batch, pair them by rank.

    Element i is the smoothed logistic loss of β·(sorted(π_c − π_r)_i − sorted(ρ_c − ρ_r)_i): batch-level.
    """
    policy_sorted, _ = torch.sort(p.policy_chosen - p.policy_rejected, dim=0)
    ref_sorted, _ = torch.sort(p.ref_chosen - p.ref_rejected, dim=0)
    return _smoothed_logistic(p.beta * (policy_sorted - ref_sorted), p.label_smoothing)


def _aot_unpaired(p: _Pairs) -> Tensor:
    """AOT unpaired: sort u_c and u_r separately across the batch; element i is for sorted(u_c)_i − sorted(u_r)_i."""
    chosen_sorted, _ = torch.sort(p.chosen_logratios, dim=0)
    rejected_sorted, _ = torch.sort(p.rejected_logratios, dim=0)
    return _smoothed_logistic(p.beta * (chosen_sorted - rejected_sorted), p.label_smoothing)


def _apo_zero(p: _Pairs) -> Tensor:
    """APO-zero (D'Oosterlinck et al. 2024, eq. 7): 1 − σ(βu_c) + σ(βu_r)."""
    return 1 - torch.sigmoid(p.beta * p.chosen_logratios) + torch.sigmoid(p.beta * p.rejected_logratios)


def _apo_down(p: _Pairs) -> Tensor:
    """APO-down (eq. 8): σ(βu_c) + 1 − σ(d)."""
    return torch.sigmoid(p.beta * p.chosen_logratios) + 1 - torch.sigmoid(p.margin)


def _discopop(p: _Pairs) -> Tensor:
    """DiscoPOP (Chris Lu et al. 2024, eq. 5): (1 − m)·(−logσ(d)) + m·e^(−d), m = σ(d/τ).

    The exponential term is written e^(logσ(d/τ) − d) so that it cannot overflow for very negative d
    (where m underflows to 0 long before e^(−d) overflows in TRL's form: same value, finite gradient).
    """
    d = p.margin
    tau = p.discopop_tau
    logistic = -F.logsigmoid(d) * torch.sigmoid(-d / tau)
    exponential = torch.exp(F.logsigmoid(d / tau) - d)
    return logistic + exponential


def _sigmoid_norm(p: _Pairs) -> Tensor:
    """Length-normalised DPO: −logσ(β(u_c/n_c − u_r/n_r))."""
    return -F.logsigmoid(p.beta * p.per_token_gap())


def _rao_kupper(p: _Pairs) -> Tensor:
    """Rao–Kupper ties, θ > 1, α = log θ.

    P(win) = σ(d − α), P(lose) = σ(−d − α), P(tie) = (θ² − 1)·σ(d − α)·σ(−d − α); these sum to 1.
    Non-tie: −log P(win); tie: −log P(tie).
    """
    d = p.margin
    alpha = math.log(p.tie_strength)
    win = -F.logsigmoid(d - alpha)
    tie = win - F.logsigmoid(-d - alpha) - math.log(p.tie_strength**2 - 1)
    return torch.where(p.ties(), tie, win)


def _davidson(p: _Pairs) -> Tensor:
    """Davidson ties, ν > 0.

    P(win) = 1/(1 + e^(−d) + ν·e^(−d/2)), P(tie) = ν/(ν + 2·cosh(d/2)), P(lose) = P(win) at −d; these sum to 1.
    Non-tie: log(1 + e^(−d) + ν·e^(−d/2)); tie: log(ν + e^(d/2) + e^(−d/2)) − log ν (as log-sum-exps).
    """
    d = p.margin
    log_nu = torch.full_like(d, math.log(p.tie_strength))
    win = torch.stack([torch.zeros_like(d), -d, log_nu - d / 2]).logsumexp(dim=0)
    tie = torch.stack([log_nu, d / 2, -d / 2]).logsumexp(dim=0) - log_nu
    return torch.where(p.ties(), tie, win)


_TRL_LOSSES: dict[str, Callable[[_Pairs], Tensor]] = {
    "sigmoid": _sigmoid,
    "hinge": _hinge,
    "ipo": _ipo,
    "exo_pair": _exo_pair,
    "nca_pair": _nca_pair,
    "robust": _robust,
    "bco_pair": _bco_pair,
    "sppo_hard": _sppo_hard,
    "aot": _aot,
    "aot_unpaired": _aot_unpaired,
    "apo_zero": _apo_zero,
    "apo_down": _apo_down,
    "discopop": _discopop,
    "sigmoid_norm": _sigmoid_norm,
}
_TIE_LOSSES: dict[str, Callable[[_Pairs], Tensor]] = {
    "rao_kupper": _rao_kupper,
    "davidson": _davidson,
}
_LOSSES = {**_TRL_LOSSES, **_TIE_LOSSES}

# Which settings each loss reads, and whether it learns from ties, is loss_table.LOSSES; this module maps its
# names (all but `sft`, which the loop computes from per-token log-probs) to functions.
TRL_LOSS_TYPES: tuple[str, ...] = tuple(_TRL_LOSSES)
TIE_LOSS_TYPES: tuple[str, ...] = loss_table.TIE_LOSS_TYPES
LOSS_TYPES: tuple[str, ...] = tuple(_LOSSES)
BATCH_LEVEL_LOSS_TYPES: tuple[str, ...] = loss_table.BATCH_LEVEL_LOSS_TYPES
LENGTH_NORMALISED_LOSS_TYPES: tuple[str, ...] = loss_table.LENGTH_NORMALISED_LOSS_TYPES
LABEL_SMOOTHING_LOSS_TYPES: tuple[str, ...] = loss_table.LABEL_SMOOTHING_LOSS_TYPES


def _check_options(p: _Pairs, loss_type: str) -> None:
    """The schema's checks for the settings this loss reads, so a direct caller gets the config's messages."""
    if loss_type not in _LOSSES:
        raise ValueError(f"loss_type: unknown loss {loss_type!r}; choose one of {', '.join(LOSS_TYPES)}")
    errors = SETTINGS["beta"].problems(p.beta)
    if loss_type == "discopop":
        errors += SETTINGS["discopop_tau"].problems(p.discopop_tau)
    errors += loss_table.loss_problems([loss_type], label_smoothing=p.label_smoothing, tie_strength=p.tie_strength)
    if errors:
        raise ValueError("; ".join(errors))
    if loss_type in LENGTH_NORMALISED_LOSS_TYPES and (p.chosen_lengths is None or p.rejected_lengths is None):
        raise ValueError(f"{loss_type} averages log-ratios per token: pass chosen_lengths and rejected_lengths")
    if loss_type not in TIE_LOSS_TYPES and p.is_tie is not None and bool(torch.as_tensor(p.is_tie).any()):
        raise ValueError(
            f"{loss_type!r} cannot learn from ties: use one of {', '.join(TIE_LOSS_TYPES)} or drop the tied pairs"
        )


def preference_loss(
    policy_chosen_logps: Tensor,
    policy_rejected_logps: Tensor,
    ref_chosen_logps: Tensor,
    ref_rejected_logps: Tensor,
    *,
    loss_type: str,
    beta: float = SETTINGS["beta"].default,
    label_smoothing: float = 0.0,
    chosen_lengths: Tensor | None = None,
    rejected_lengths: Tensor | None = None,
    is_tie: Tensor | None = None,
    tie_strength: float | None = None,
    discopop_tau: float = SETTINGS["discopop_tau"].default,
) -> Tensor:
    """Per-pair preference losses, shape (B,); the training loss is their mean.

    Args:
        policy_chosen_logps, policy_rejected_logps: π_c, π_r — summed completion log-probs under the policy, (B,).
        ref_chosen_logps, ref_rejected_logps: ρ_c, ρ_r — the same under the reference model, (B,).
        loss_type: one of ``LOSS_TYPES``. With d = β·((π_c − ρ_c) − (π_r − ρ_r)) the default ``"sigmoid"`` is
            DPO's  L = −log σ(d).
        beta: β, the strength of the pull towards the reference model (τ for ``ipo``).
        label_smoothing: ε for ``robust``, ``exo_pair``, ``aot``, ``aot_unpaired`` (an error elsewhere).
        chosen_lengths, rejected_lengths: completion token counts n_c, n_r, (B,); required by ``ipo`` and
            ``sigmoid_norm``, which use the per-token log-ratios u/n (TRL clamps n to ≥ 1, so do we).
        is_tie: bool (B,), which pairs the judge called a tie; only tie losses may receive True values.
        tie_strength: θ > 1 for ``rao_kupper``, ν > 0 for ``davidson``; None means the loss's default.
        discopop_tau: τ of ``discopop``.

    Raises:
        ValueError: for an unknown loss type or an option the loss type cannot use.
    """
    if tie_strength is None and loss_type in TIE_LOSS_TYPES:
        tie_strength = loss_table.LOSSES[loss_type].default_tie_strength
    pairs = _Pairs(
        policy_chosen=policy_chosen_logps,
        policy_rejected=policy_rejected_logps,
        ref_chosen=ref_chosen_logps,
        ref_rejected=ref_rejected_logps,
        beta=beta,
        label_smoothing=label_smoothing,
        chosen_lengths=chosen_lengths,
        rejected_lengths=rejected_lengths,
        is_tie=is_tie,
        tie_strength=tie_strength,
        discopop_tau=discopop_tau,
    )
    _check_options(pairs, loss_type)
    return _LOSSES[loss_type](pairs)


def auto_label_smoothing(agreements: Sequence[float]) -> float:
    """ε = 1 − mean reviewer agreement, floored at 0 and capped at ``MAX_AUTO_LABEL_SMOOTHING`` (< 0.5).

    ``agreements`` are per-pair (or per-item) agreement rates in [0, 1]; noisier labels get more smoothing.
    """
    values = [float(a) for a in agreements]
    if not values:
        raise ValueError("auto_label_smoothing needs at least one agreement value")
    bad = [a for a in values if not 0.0 <= a <= 1.0]
    if bad:
        raise ValueError(f"agreements must lie in [0, 1], got {bad[0]}")
    epsilon = 1.0 - sum(values) / len(values)
    return min(max(epsilon, 0.0), MAX_AUTO_LABEL_SMOOTHING)
