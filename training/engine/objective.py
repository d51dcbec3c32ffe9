"""The training objective: a weighted sum of loss types, averaged over pairs with per-pair weights."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from training.engine import losses
from training.engine.config import TIE_LOSS_TYPES, EngineConfig
from training.engine.data import PreferencePair


@dataclass(frozen=True)
class Objective:
    loss_types: list[str]
    loss_weights: list[float]
    beta: float
    label_smoothing: float
    tie_strength: float | None
    discopop_tau: float

    @classmethod
    def from_config(cls, config: EngineConfig, train_pairs: list[PreferencePair]) -> Objective:
        return cls(
            loss_types=config.loss_types,
            loss_weights=config.resolved_loss_weights,
            beta=float(config.beta),
            label_smoothing=resolve_label_smoothing(config, train_pairs),
            tie_strength=config.resolved_tie_strength,
            discopop_tau=float(config.discopop_tau),
        )

    def per_pair(
        self,
        policy_chosen: torch.Tensor,
        policy_rejected: torch.Tensor,
        ref_chosen: torch.Tensor,
        ref_rejected: torch.Tensor,
        *,
        chosen_lengths: torch.Tensor,
        rejected_lengths: torch.Tensor,
        is_tie: torch.Tensor,
        sft_nll: torch.Tensor,
    ) -> torch.Tensor:
        """Σ_k w_k · loss_k per pair, shape (B,). Ties count only in tie-aware losses (and sft)."""
        total = torch.zeros_like(policy_chosen)
        is_tie = is_tie.to(policy_chosen.device)
        for loss_type, weight in zip(self.loss_types, self.loss_weights, strict=True):
            if loss_type == "sft":
                # TRL's sft term is the batch's mean NLL per chosen token, the same for every pair.
                term = sft_nll.expand_as(total)
            elif loss_type in TIE_LOSS_TYPES:
                term = losses.preference_loss(
                    policy_chosen,
                    policy_rejected,
                    ref_chosen,
                    ref_rejected,
                    loss_type=loss_type,
                    beta=self.beta,
                    is_tie=is_tie,
                    tie_strength=self.tie_strength,
                )
            else:
                smoothing = self.label_smoothing if loss_type in losses.LABEL_SMOOTHING_LOSS_TYPES else 0.0
                term = losses.preference_loss(
                    policy_chosen,
                    policy_rejected,
                    ref_chosen,
                    ref_rejected,
                    loss_type=loss_type,
                    beta=self.beta,
                    label_smoothing=smoothing,
                    chosen_lengths=chosen_lengths,
                    rejected_lengths=rejected_lengths,
                    discopop_tau=self.discopop_tau,
                )
                term = term.masked_fill(is_tie, 0.0)
            total = total + weight * term
        return total


def weighted_mean(values: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Σ w_i·x_i / Σ w_i: with all weights 1 this is TRL's plain mean."""
    weights = weights.to(values.device, values.dtype)
    return (values * weights).sum() / weights.sum().clamp(min=torch.finfo(values.dtype).tiny)


def resolve_label_smoothing(config: EngineConfig, train_pairs: list[PreferencePair]) -> float:
    """The ε in use: `"auto"` is 1 − mean reviewer agreement over the pairs that carry one, capped below 0.5."""
    if config.label_smoothing != "auto":
        return float(config.label_smoothing)
    agreements = [p.meta["agreement"] for p in train_pairs if isinstance(p.meta.get("agreement"), (int, float))]
    if not agreements:
        return 0.0
    return losses.auto_label_smoothing(agreements)
