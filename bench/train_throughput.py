"""LoRA DPO training throughput: the Verdict engine against TRL 1.16's DPOTrainer, same model, data and steps.

    python bench/train_throughput.py                      # CPU: the ~25M-parameter local model, fp32
    python bench/train_throughput.py --device cuda        # CUDA: a Qwen2-0.5B-shaped random-init model, bf16

Each trainer runs in its own subprocess, so peak memory (RSS, and CUDA memory on GPU) is its own. Both see the same
pairs in one epoch with the same LoRA settings and batch size, and neither precomputes reference log-probs unless
--precompute is given (then both are timed from loading the model, so that the reference pass counts). Otherwise
throughput counts the training loop only (model loading and tokenization excluded for both). The last line is `speedup vs TRL: X.XX`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Dense bf16 peak of the GPUs this may run on, for MFU.
PEAK_BF16_FLOPS = {"H100": 989e12, "H200": 989e12, "A100": 312e12, "L4": 121e12}


def _words() -> list[str]:
    from training.engine.tiny import _WORDS

    return _WORDS


def make_pairs(n: int, seed: int) -> list[dict]:
    """Prompts of 20-60 words and completions of 10-60 words: varied lengths, as real pairs have."""
    rng = random.Random(seed)
    words = _words()

    def text(lo: int, hi: int) -> str:
        return " ".join(rng.choices(words, k=rng.randint(lo, hi)))

    return [{"prompt": text(20, 60), "chosen": " " + text(10, 60), "rejected": " " + text(10, 60)} for _ in range(n)]


def make_qwen_shaped_model(directory: Path) -> None:
    """Qwen2-0.5B's shapes (24 layers, hidden 896, 151,936-token vocabulary), random weights, local BPE tokenizer."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from training.engine.tiny import build_tokenizer

    tokenizer = build_tokenizer(4096)
    config = Qwen2Config(
        vocab_size=151936,
        hidden_size=896,
        intermediate_size=4864,
        num_hidden_layers=24,
        num_attention_heads=14,
        num_key_value_heads=2,
        max_position_embeddings=32768,
        rope_theta=1e6,
        tie_word_embeddings=True,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    torch.manual_seed(0)
    Qwen2ForCausalLM(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def _cuda_peak_mb() -> float | None:
    import torch

    return torch.cuda.max_memory_allocated() / 2**20 if torch.cuda.is_available() else None


def run_engine(args, model_dir: Path, data: list[dict], out: Path) -> dict:
    # Imported before any clock starts, as the TRL side imports them before building its trainer.
    from peft import LoraConfig, get_peft_model  # noqa: F401
    from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: F401

    from training.engine import EngineConfig, NullReporter, PreferencePair, train_dpo

    class Timer(NullReporter):
        started = ended = cpu_started = cpu_ended = 0.0

        def start(self, total_steps: int) -> None:
            self.started, self.cpu_started = time.perf_counter(), time.process_time()

        def log(self, step: int, metrics: dict) -> None:
            self.ended, self.cpu_ended = time.perf_counter(), time.process_time()

    config = EngineConfig.from_dict(
        dict(
            model_dir=str(model_dir),
            output_dir=str(out),
            batch_size=args.batch_size,
            max_steps=args.steps,
            max_length=args.max_length,
            learning_rate=1e-4,
            lora_r=16,
            lora_alpha=32,
            num_samples=0,
            precompute_ref_logps=args.precompute,
            ref_cache_dir=str(out / "ref-cache"),
            gradient_checkpointing=args.gradient_checkpointing,
            device=args.device,
            seed=0,
        )
    )
    pairs = [PreferencePair(**row) for row in data]
    timer = Timer()
    wall, cpu = time.perf_counter(), time.process_time()
    result = train_dpo(config, pairs, [], timer)
    if args.precompute:  # the reference pass runs before training starts: time from loading, as for TRL
        timer.started, timer.cpu_started = wall, cpu
    return {
        "seconds": timer.ended - timer.started,
        "cpu_seconds": timer.cpu_ended - timer.cpu_started,
        "final_loss": result.metrics["loss"],
    }


def run_trl(args, model_dir: Path, data: list[dict], out: Path) -> dict:
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
    from trl import DPOConfig, DPOTrainer

    cuda = args.device == "cuda"
    # With --precompute, TRL's reference pass runs while the trainer is built: time from loading, as the engine is.
    loading, cpu_loading = time.perf_counter(), time.process_time()
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.bfloat16 if cuda else torch.float32)
    config = DPOConfig(
        output_dir=str(out),
        use_cpu=not cuda,
        bf16=cuda,
        per_device_train_batch_size=args.batch_size,
        max_steps=args.steps,
        max_length=args.max_length,
        learning_rate=1e-4,
        lr_scheduler_type="cosine",
        warmup_steps=0.1,  # a float below 1 is a ratio of the total steps
        precompute_ref_log_probs=args.precompute,
        gradient_checkpointing=args.gradient_checkpointing,
        report_to=[],
        save_strategy="no",
        logging_steps=1,
        disable_tqdm=True,
        seed=0,
        dataloader_num_workers=0,
    )
    lora = LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0, target_modules="all-linear", task_type="CAUSAL_LM")

    class LastLoss(TrainerCallback):
        loss = None

        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "loss" in logs:
                LastLoss.loss = logs["loss"]

    trainer = DPOTrainer(
        model=model,
        args=config,
        train_dataset=Dataset.from_list(data),
        processing_class=tokenizer,
        peft_config=lora,
        callbacks=[LastLoss()],
    )
    started, cpu = time.perf_counter(), time.process_time()
    if args.precompute:
        started, cpu = loading, cpu_loading
    trainer.train()
    return {
        "seconds": time.perf_counter() - started,
        "cpu_seconds": time.process_time() - cpu,
        "final_loss": LastLoss.loss,
    }


def child(args) -> None:
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    data = json.loads(Path(args.data).read_text())
    out = Path(args.workdir) / args.run
    runner = run_engine if args.run == "engine" else run_trl
    result = runner(args, Path(args.model_dir), data, out)
    result.update(peak_rss_mb=_peak_rss_mb(), peak_cuda_mb=_cuda_peak_mb())
    print("RESULT " + json.dumps(result))


def _count_tokens(model_dir: Path, data: list[dict], max_length: int) -> int:
    from transformers import AutoTokenizer

    from training.engine.data import PreferencePair, tokenize_pairs

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    items, _ = tokenize_pairs([PreferencePair(**r) for r in data], tokenizer, max_length=max_length)
    return sum(len(it.chosen_ids) + len(it.rejected_ids) for it in items)


def _param_count(model_dir: Path) -> int:
    from safetensors import safe_open

    total = 0
    for path in model_dir.glob("*.safetensors"):
        with safe_open(str(path), "pt") as handle:
            for name in handle.keys():
                total += _prod(handle.get_slice(name).get_shape())
    return total


def _prod(shape) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def _mfu(params: int, tokens: int, seconds: float) -> float | None:
    """Model FLOPs utilisation: (6N for policy forward+backward + 2N for the reference forward) × tokens / time."""
    import torch

    if not torch.cuda.is_available():
        return None
    name = torch.cuda.get_device_name()
    peak = next((flops for key, flops in PEAK_BF16_FLOPS.items() if key in name), None)
    return None if peak is None else 8 * params * tokens / seconds / peak


def parent(args) -> None:
    with tempfile.TemporaryDirectory(prefix="dpo-bench-") as tmp:
        work = Path(tmp)
        model_dir = work / "model"
        if args.device == "cuda":
            make_qwen_shaped_model(model_dir)
        else:
            from training.engine import make_tiny_model

            make_tiny_model(model_dir, "small")
        data = make_pairs(args.steps * args.batch_size, seed=0)
        data_path = work / "data.json"
        data_path.write_text(json.dumps(data))
        tokens = _count_tokens(model_dir, data, args.max_length)
        params = _param_count(model_dir)
        print(
            f"model {params / 1e6:.1f}M params on {args.device}; {len(data)} pairs, {tokens} tokens; "
            f"batch {args.batch_size}, {args.steps} steps, precompute_ref={args.precompute}"
        )
        results = {}
        for run in args.order.split(","):
            command = [sys.executable, __file__, "--run", run, "--data", str(data_path), "--model-dir", str(model_dir)]
            command += ["--workdir", str(work), "--steps", str(args.steps), "--batch-size", str(args.batch_size)]
            command += ["--max-length", str(args.max_length), "--device", args.device]
            command += ["--threads", str(args.threads)] if args.threads else []
            command += ["--precompute"] if args.precompute else []
            command += ["--gradient-checkpointing"] if args.gradient_checkpointing else []
            done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "TQDM_DISABLE": "1"})
            lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
            if done.returncode != 0 or not lines:
                sys.exit(f"{run} failed:\n{done.stderr[-4000:]}")
            results[run] = json.loads(lines[-1][len("RESULT ") :])
        # With one thread on CPU, CPU time measures the work itself; wall time also measures the neighbours.
        clock = "cpu_seconds" if args.device == "cpu" and args.threads == 1 else "seconds"
        print(f"throughput from {'CPU time (1 thread)' if clock == 'cpu_seconds' else 'wall time'}")
        for run in ("engine", "trl"):
            r = results[run]
            line = (
                f"{run:>6}: {len(data) / r[clock]:8.2f} pairs/s  {tokens / r[clock]:10.1f} tokens/s  "
                f"peak RSS {r['peak_rss_mb']:8.1f} MiB  wall {r['seconds']:7.2f} s  CPU {r['cpu_seconds']:7.2f} s  "
                f"final loss {r['final_loss']:.4f}"
            )
            if r["peak_cuda_mb"] is not None:
                mfu = _mfu(params, tokens, r["seconds"])
                line += f"  peak CUDA {r['peak_cuda_mb']:.0f} MiB" + (f"  MFU {mfu:.1%}" if mfu is not None else "")
            print(line)
        print(f"speedup vs TRL: {results['trl'][clock] / results['engine'][clock]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--max-length", type=int, default=256)
    # One thread by default: on a shared machine a second intra-op thread mostly waits on the other processes.
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads in each trainer (0: torch's)")
    parser.add_argument("--precompute", action="store_true", help="precompute reference log-probs in both")
    parser.add_argument("--gradient-checkpointing", action="store_true")
    parser.add_argument("--order", default="trl,engine", help="which trainer runs first")
    parser.add_argument("--run", choices=["engine", "trl"], help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--model-dir", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        child(args)
    else:
        parent(args)


if __name__ == "__main__":
    main()
