"""The policy (base model + LoRA adapter) and summed completion log-probs.

The reference model is the same module with its adapter disabled (`with model.disable_adapter():`), so no second
copy of the weights is ever loaded.
"""

from __future__ import annotations

import torch
from torch.utils.checkpoint import checkpoint

from training.engine.config import ConfigError, EngineConfig, flash_attention_problems

# Above this many logits (positions × vocabulary) the LM head runs in chunks that are recomputed in the backward
# pass, so the (N, V) logits of a long batch are never all held at once.
LOGITS_CHUNK_ELEMENTS = 1 << 25


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device: cuda was asked for but torch sees no CUDA device")
    return torch.device(name)


DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}


def resolve_dtype(precision: str, device: torch.device) -> torch.dtype:
    """`auto` is bf16 on CUDA (as TRL's examples train) and fp32 on CPU, where bf16 matmuls are slow."""
    if precision == "auto":
        return torch.bfloat16 if device.type == "cuda" else torch.float32
    if precision == "fp16" and device.type != "cuda":
        raise ConfigError(["precision: fp16 runs on CUDA only; use fp32 or bf16 on CPU"])
    return DTYPES[precision]


def _disable_dropout(module: torch.nn.Module) -> None:
    # As TRL does (disable_dropout=True): the reference and policy passes must see the same function.
    for child in module.modules():
        if isinstance(child, torch.nn.Dropout):
            child.p = 0.0


def load_policy(model_dir: str, config: EngineConfig):
    """Load the base model and tokenizer and wrap the model with a fresh LoRA adapter: (peft_model, tokenizer).

    The weights load in `config.precision` (see resolve_dtype) with `config.attn_implementation`; the adapter's
    weights stay fp32 (PEFT upcasts them) and their initial values depend only on `config.seed`, or are an earlier
    run's adapter (`config.init_adapter_dir`), trainable, when this run continues it.
    """
    from peft import LoraConfig, PeftModel, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    device = resolve_device(config.device)
    dtype = resolve_dtype(config.precision, device)
    if config.attn_implementation == "flash_attention_2":
        problems = flash_attention_problems()
        if problems or device.type != "cuda":
            raise ConfigError(problems or ["attn_implementation: flash_attention_2 runs on CUDA only"])
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(
        model_dir, dtype=dtype, attn_implementation=config.attn_implementation
    ).to(device)
    _disable_dropout(model)
    model.config.use_cache = False
    if config.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    if config.init_adapter_dir:
        return PeftModel.from_pretrained(model, config.init_adapter_dir, is_trainable=True), tokenizer
    lora = LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=config.target_modules,
        bias="none",
        task_type="CAUSAL_LM",
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        peft_model = get_peft_model(model, lora)
    return peft_model, tokenizer


def _backbone_and_head(model):
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return getattr(base, base.base_model_prefix), base.get_output_embeddings()


def _label_logps(hidden: torch.Tensor, labels: torch.Tensor, weight: torch.Tensor, bias) -> torch.Tensor:
    """log p(label) for N positions: hidden (N, H), labels (N,) → (N,), in fp32."""
    logits = torch.nn.functional.linear(hidden, weight, bias).float()
    return logits.gather(-1, labels.unsqueeze(-1)).squeeze(-1) - logits.logsumexp(dim=-1)


def _completion_token_logps(hidden: torch.Tensor, labels: torch.Tensor, head: torch.nn.Module) -> torch.Tensor:
    n, vocab = hidden.size(0), head.weight.size(0)
    if n * vocab <= LOGITS_CHUNK_ELEMENTS or not torch.is_grad_enabled():
        return _label_logps(hidden, labels, head.weight, head.bias)
    step = max(1, LOGITS_CHUNK_ELEMENTS // vocab)
    parts = [
        checkpoint(
            _label_logps, hidden[i : i + step], labels[i : i + step], head.weight, head.bias, use_reentrant=False
        )
        for i in range(0, n, step)
    ]
    return torch.cat(parts)


def _prompt_lengths(input_ids: torch.Tensor, completion_mask: torch.Tensor) -> torch.Tensor | None:
    """Per-pair prompt length when each pair's chosen and rejected rows start with the same prompt, else None."""
    half = input_ids.size(0) // 2
    starts = (completion_mask.cumsum(dim=1) == 0).sum(dim=1)  # leading prompt tokens per row
    if not torch.equal(starts[:half], starts[half:]) or bool((starts[:half] < 1).any()):
        return None
    width = int(starts.max())
    in_prompt = torch.arange(width, device=input_ids.device) < starts[:half, None]
    if not torch.equal(input_ids[:half, :width] * in_prompt, input_ids[half:, :width] * in_prompt):
        return None  # keep_end truncation cut the two prompts differently
    return starts[:half]


def _shared_prompt_logps(model, input_ids, attention_mask, prompt_lengths):
    """Per-token completion log-probs (2B, C) and their mask, running each pair's prompt through the model once.

    The prompt pass (B rows) fills a KV cache that is tiled to 2B rows (chosen then rejected); the completion pass
    attends to it with positions continuing from each prompt's end. Position t's hidden state predicts token t + 1,
    so a completion's first token is predicted from its prompt's last position.
    """
    backbone, head = _backbone_and_head(model)
    half, device = prompt_lengths.size(0), input_ids.device
    width = int(prompt_lengths.max())
    prompt_attention = (torch.arange(width, device=device) < prompt_lengths[:, None]).long()
    prompt_out = backbone(
        input_ids=input_ids[:half, :width] * prompt_attention, attention_mask=prompt_attention, use_cache=True
    )
    tile = torch.cat([torch.arange(half, device=device)] * 2)
    cache = prompt_out.past_key_values
    cache.batch_select_indices(tile)
    starts = prompt_lengths[tile]
    lengths = attention_mask.sum(dim=1) - starts  # completion tokens per row
    span = int(lengths.max())
    offsets = torch.arange(span, device=device)
    valid = offsets < lengths[:, None]
    positions = starts[:, None] + offsets
    tokens = input_ids.gather(1, positions.clamp(max=input_ids.size(1) - 1)) * valid
    completion_out = backbone(
        input_ids=tokens,
        attention_mask=torch.cat([prompt_attention[tile], valid.long()], dim=1),
        position_ids=positions,
        past_key_values=cache,
        use_cache=True,
    )
    last_prompt = prompt_out.last_hidden_state[torch.arange(half, device=device), prompt_lengths - 1][tile]
    predictors = torch.cat([last_prompt[:, None], completion_out.last_hidden_state[:, :-1]], dim=1)
    token_logps = _completion_token_logps(predictors[valid], tokens[valid], head)
    return token_logps.new_zeros(valid.shape).masked_scatter(valid, token_logps), valid


def sequence_logps(
    model, batch: dict[str, torch.Tensor], *, share_prompt: bool = False
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Summed completion log-probs of every row of a collated batch.

    Returns (logps (2B,), completion token counts (2B,), mean NLL per chosen completion token (scalar)); rows
    0..B-1 are chosen, B..2B-1 rejected. Only the positions that predict a completion token go through the LM
    head: the prompt's logits are never computed.

    With `share_prompt`, each pair's prompt goes through the model once instead of twice (a KV cache shared by its
    two completions): the same values up to floating-point rounding, for fewer tokens of work. It falls back to
    the concatenated pass when a pair's prompts differ (keep_end truncation) or gradient checkpointing is on.
    """
    backbone, head = _backbone_and_head(model)
    device = head.weight.device
    input_ids = batch["input_ids"].to(device)
    attention_mask = batch["attention_mask"].to(device)
    completion_mask = batch["completion_mask"].to(device)
    prompt_lengths = None
    if share_prompt and not getattr(backbone, "gradient_checkpointing", False):
        prompt_lengths = _prompt_lengths(input_ids, completion_mask)
    if prompt_lengths is not None:
        per_token, scored = _shared_prompt_logps(model, input_ids, attention_mask, prompt_lengths)
    else:
        hidden = backbone(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).last_hidden_state
        # Position t predicts token t + 1: shift the labels and the mask left by one.
        scored = completion_mask[:, 1:].bool()
        token_logps = _completion_token_logps(hidden[:, :-1][scored], input_ids[:, 1:][scored], head)
        # Back to (2B, L-1) with zeros elsewhere, summed along the sequence as TRL sums its per-token log-probs.
        per_token = token_logps.new_zeros(scored.shape).masked_scatter(scored, token_logps)
    logps = per_token.sum(dim=1)
    half = input_ids.size(0) // 2
    chosen_scored = scored[:half]
    chosen_tokens = chosen_scored.sum()
    mean_nll_chosen = -(per_token[:half] * chosen_scored).sum() / chosen_tokens.clamp(min=1)
    return logps, completion_mask.sum(dim=1), mean_nll_chosen
