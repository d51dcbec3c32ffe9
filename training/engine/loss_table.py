"""The loss table: each loss type's name, help, the settings it reads, whether it learns from ties, and the domains
of its own settings (ε, θ/ν). Standard library only; `losses.py` maps these names to functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from training.engine.intervals import Interval


@dataclass(frozen=True)
class LossType:
    name: str
    label: str
    help: str
    reads: tuple[str, ...]  # settings (and "lengths": completion token counts) the loss reads
    needs_ties: bool = False  # learns from tied pairs (and only then are tied pairs trained on)
    label_smoothing: Interval | None = None  # ε's domain, for the losses that read it
    tie_strength: Interval | None = None  # θ or ν's domain, for the tie-aware losses
    default_tie_strength: float | None = None
    tie_symbol: str = ""  # the tie strength's name in the paper
    batch_level: bool = False  # sorts across the batch: only the batch mean is meaningful


_SMOOTHED = Interval(0.0, 0.5, high_open=True)  # at ε = 0.5 the labels carry no information (robust divides by 0)
TIE_CAP = 100.0  # at d = 0 a tie is then 98% likely: beyond that no judge's ties look like this

LOSSES: dict[str, LossType] = {
    loss.name: loss
    for loss in (
        LossType("sigmoid", "DPO", "Rafailov et al. 2023: −log σ(d). The default; start here.", ("beta",)),
        LossType("hinge", "SLiC hinge", "Zhao et al. 2023: max(0, 1 − d); stops pushing once d > 1.", ("beta",)),
        LossType(
            "ipo",
            "IPO",
            "Azar et al. 2023: squared loss towards a per-token gap of 1/(2β); resists overfitting "
            "near-deterministic preferences. β is τ here (try 0.01–0.5).",
            ("beta", "lengths"),
        ),
        LossType(
            "exo_pair",
            "EXO",
            "Ji et al. 2024: reverse-KL to the label distribution [1−ε, ε]; needs ε > 0 (the paper uses 1e-3).",
            ("beta", "label_smoothing"),
            label_smoothing=Interval(0.0, 1.0, low_open=True, high_open=True),
        ),
        LossType(
            "nca_pair",
            "NCA",
            "Chen et al. 2024: absolute rewards; keeps the chosen likelihood from falling.",
            ("beta",),
        ),
        LossType(
            "robust",
            "Robust DPO",
            'Chowdhury et al. 2024: unbiased under label noise ε (use "auto" = 1 − reviewer agreement).',
            ("beta", "label_smoothing"),
            label_smoothing=_SMOOTHED,
        ),
        LossType("bco_pair", "BCO (pairs)", "Jung et al. 2024: each completion classified on its own.", ("beta",)),
        LossType(
            "sppo_hard",
            "SPPO (hard)",
            "Wu et al. 2024: chosen log-ratio towards +1/(2β), rejected towards −1/(2β).",
            ("beta",),
        ),
        LossType(
            "aot",
            "AOT (paired)",
            "Melnyk et al. 2024: aligns the distribution of margins by sorting across the batch; larger batches.",
            ("beta", "label_smoothing"),
            label_smoothing=_SMOOTHED,
            batch_level=True,
        ),
        LossType(
            "aot_unpaired",
            "AOT (unpaired)",
            "AOT on chosen and rejected log-ratios sorted separately; for data without true pairs.",
            ("beta", "label_smoothing"),
            label_smoothing=_SMOOTHED,
            batch_level=True,
        ),
        LossType(
            "apo_zero",
            "APO-zero",
            "D'Oosterlinck et al. 2024: raises chosen, lowers rejected; when chosen beats the model's own outputs.",
            ("beta",),
        ),
        LossType(
            "apo_down",
            "APO-down",
            "APO variant lowering both; when the model's outputs already beat the chosen answers.",
            ("beta",),
        ),
        LossType(
            "discopop",
            "DiscoPOP",
            "Lu et al. 2024: blends logistic and exponential losses with temperature τ.",
            ("beta", "discopop_tau"),
        ),
        LossType(
            "sigmoid_norm",
            "DPO, length-normalised",
            "DPO on per-token log-ratios: removes the pull towards longer answers.",
            ("beta", "lengths"),
        ),
        LossType(
            "rao_kupper",
            "Rao–Kupper (ties)",
            "Chen et al. 2024: DPO that also learns from ties, with tie strength θ > 1.",
            ("beta", "tie_strength"),
            needs_ties=True,
            tie_strength=Interval(1.0, TIE_CAP, low_open=True),
            default_tie_strength=2.0,  # with d = 0: (θ − 1)/(θ + 1) = 1/3, wins, losses and ties equally likely
            tie_symbol="θ",
        ),
        LossType(
            "davidson",
            "Davidson (ties)",
            "Chen et al. 2024: DPO that also learns from ties, with tie strength ν > 0.",
            ("beta", "tie_strength"),
            needs_ties=True,
            tie_strength=Interval(0.0, TIE_CAP, low_open=True),
            default_tie_strength=1.0,  # with d = 0: ν/(ν + 2) = 1/3
            tie_symbol="ν",
        ),
        LossType(
            "sft",
            "SFT (NLL of chosen)",
            "Mean negative log-likelihood of the chosen answer; add with a small weight (RPO) to keep it likely.",
            (),
        ),
    )
}
TIE_LOSS_TYPES: tuple[str, ...] = tuple(name for name, loss in LOSSES.items() if loss.needs_ties)
LABEL_SMOOTHING_LOSS_TYPES: tuple[str, ...] = tuple(n for n, loss in LOSSES.items() if "label_smoothing" in loss.reads)
LENGTH_NORMALISED_LOSS_TYPES: tuple[str, ...] = tuple(n for n, loss in LOSSES.items() if "lengths" in loss.reads)
BATCH_LEVEL_LOSS_TYPES: tuple[str, ...] = tuple(n for n, loss in LOSSES.items() if loss.batch_level)


def loss_problems(loss_types: list[str], *, label_smoothing: Any, tie_strength: Any) -> list[str]:
    """What a combination of (valid, known) losses cannot use: ε and θ/ν in each loss's own domain, or unused."""
    errors = []
    smoothed = [t for t in loss_types if t in LABEL_SMOOTHING_LOSS_TYPES]
    if label_smoothing == "auto":
        if smoothed != ["robust"]:  # auto may resolve to 0, which exo_pair cannot take
            errors.append('label_smoothing: "auto" is only for the robust loss (and no other smoothed loss)')
    elif label_smoothing != 0 and not smoothed:
        errors.append(
            f"label_smoothing: {label_smoothing} has no effect on {', '.join(loss_types)}; "
            f"it is used by {', '.join(LABEL_SMOOTHING_LOSS_TYPES)}"
        )
    else:
        for name in smoothed:
            domain = LOSSES[name].label_smoothing
            if label_smoothing not in domain:
                hint = " (the paper uses 1e-3)" if name == "exo_pair" else ""
                errors.append(f"label_smoothing: {name} needs ε in {domain}{hint}, got {label_smoothing}")
    tie_loss = next((t for t in loss_types if t in TIE_LOSS_TYPES), None)
    if tie_strength is not None and tie_loss is None:
        errors.append(f"tie_strength: only used by a tie-aware loss ({', '.join(TIE_LOSS_TYPES)}); remove it")
    elif tie_strength is not None and tie_strength not in LOSSES[tie_loss].tie_strength:
        loss = LOSSES[tie_loss]
        errors.append(
            f"tie_strength: {tie_loss} needs {loss.tie_symbol} in {loss.tie_strength}, got {tie_strength} "
            f"(default {loss.default_tie_strength:g})"
        )
    return errors
