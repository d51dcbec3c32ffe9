"""A random-init Llama-style model and a locally trained BPE tokenizer, for tests and benchmarks.

Nothing is downloaded: the tokenizer is trained with `tokenizers` on a small built-in corpus and the weights are
drawn from a seeded generator, so the same call always writes the same files.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

SIZES = {
    # ~0.2M parameters: fast enough for unit tests on two CPU cores.
    "tiny": dict(
        vocab=512,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
    ),
    # ~25M parameters: the CPU benchmark model.
    "small": dict(
        vocab=4096,
        hidden_size=512,
        intermediate_size=1408,
        num_hidden_layers=8,
        num_attention_heads=8,
        num_key_value_heads=4,
    ),
}

SPECIAL_TOKENS = ["<|pad|>", "<|endoftext|>", "<|im_start|>", "<|im_end|>"]

# ChatML: the prompt rendered with the generation prompt is a prefix of the prompt rendered with the answer, so the
# completion tokens start exactly where the prompt ends.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

_WORDS = (
    "the a an and or but if then because so when while where which who what how why yes no not all some any each "
    "one two three four five six seven eight nine ten first last next good bad better best worse worst true false "
    "answer question reviewer model judge pair chosen rejected prefer helpful honest harmless clear short long "
    "apple banana cherry grape lemon mango orange peach pear plum berry melon "
    "red blue green yellow purple black white brown pink gray silver gold "
    "cat dog bird fish horse cow sheep goat mouse lion tiger bear wolf fox "
    "run walk jump swim read write speak listen think learn teach build make find keep give take "
    "house tree river mountain city road field garden window door table chair book paper letter word sentence "
    "please thank you hello sorry maybe today tomorrow yesterday morning evening night water fire earth air "
    "is are was were be been being have has had do does did can could will would should may might must"
).split()


def _corpus() -> list[str]:
    """A deterministic corpus: every word alone, capitalised, and in short sentences, plus digits and punctuation."""
    lines = [" ".join(_WORDS), " ".join(w.capitalize() for w in _WORDS), " ".join(w.upper() for w in _WORDS)]
    for i in range(0, len(_WORDS) - 6, 3):
        chunk = _WORDS[i : i + 7]
        lines.append(" ".join(chunk).capitalize() + ".")
        lines.append("Q: " + " ".join(chunk[:3]) + "? A: " + ", ".join(chunk[3:]) + "!")
    lines.append(" ".join(str(n) for n in range(200)))
    lines.append("0123456789 +-*/=()[]{}<>:;'\"`~@#$%^&_|\\ \n\t")
    return lines * 3


def build_tokenizer(vocab_size: int):
    """A byte-level BPE tokenizer with ChatML special tokens, wrapped as a transformers fast tokenizer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(_corpus(), trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token="<|pad|>",
        eos_token="<|endoftext|>",
        additional_special_tokens=["<|im_start|>", "<|im_end|>"],
    )
    fast.chat_template = CHAT_TEMPLATE
    fast.padding_side = "left"
    return fast


def make_tiny_model(directory: str | os.PathLike, size: str = "tiny", *, seed: int = 0) -> Path:
    """Write a random-init Llama model and its tokenizer to `directory`; returns the directory."""
    from transformers import LlamaConfig, LlamaForCausalLM

    if size not in SIZES:
        raise ValueError(f"size: unknown size {size!r}, expected one of {sorted(SIZES)}")
    spec = dict(SIZES[size])
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tokenizer(spec.pop("vocab"))
    vocab_size = len(tokenizer)
    config = LlamaConfig(
        vocab_size=vocab_size,
        max_position_embeddings=2048,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=tokenizer.eos_token_id,
        tie_word_embeddings=False,
        **spec,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = LlamaForCausalLM(config)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
