"""How the engine reports progress and learns it should stop: the Reporter protocol and two reporters."""

from __future__ import annotations

import sys
from typing import Protocol, TextIO, runtime_checkable


@runtime_checkable
class Reporter(Protocol):
    def start(self, total_steps: int) -> None: ...

    def log(self, step: int, metrics: dict[str, float]) -> None: ...

    def should_stop(self) -> bool: ...

    def checkpoint(self, step: int, path: str) -> None: ...


class NullReporter:
    """Reports nothing and never asks to stop."""

    def start(self, total_steps: int) -> None:
        pass

    def log(self, step: int, metrics: dict[str, float]) -> None:
        pass

    def should_stop(self) -> bool:
        return False

    def checkpoint(self, step: int, path: str) -> None:
        pass


class ConsoleReporter:
    """A tqdm progress bar with the loss and speed; eval metrics and checkpoints printed on their own lines."""

    def __init__(self, stream: TextIO | None = None, *, progress: bool = True):
        self.stream = stream or sys.stderr
        self.progress = progress
        self._bar = None

    def start(self, total_steps: int) -> None:
        if self.progress:
            from tqdm import tqdm

            self._bar = tqdm(total=total_steps, desc="training", unit="step", file=self.stream, dynamic_ncols=True)

    def log(self, step: int, metrics: dict[str, float]) -> None:
        evals = {k: v for k, v in metrics.items() if k.startswith("eval/")}
        if evals:
            shown = ", ".join(f"{k}={v:.4g}" for k, v in sorted(evals.items()))
            self._write(f"step {step}: {shown}")
        if "loss" not in metrics:
            return
        summary = {
            "loss": f"{metrics['loss']:.4f}",
            "acc": f"{metrics.get('rewards/accuracies', float('nan')):.2f}",
            "pairs/s": f"{metrics.get('pairs_per_s', float('nan')):.1f}",
        }
        if self._bar is not None:
            self._bar.set_postfix(summary, refresh=False)
            self._bar.update(step - self._bar.n)
        else:
            self._write(f"step {step}: " + " ".join(f"{k}={v}" for k, v in summary.items()))

    def should_stop(self) -> bool:
        return False

    def checkpoint(self, step: int, path: str) -> None:
        self._write(f"step {step}: checkpoint saved to {path}")

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def _write(self, line: str) -> None:
        if self._bar is not None:
            self._bar.write(line, file=self.stream)
        else:
            print(line, file=self.stream, flush=True)
