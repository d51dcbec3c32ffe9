import hashlib

from transformers import AutoModelForCausalLM, AutoTokenizer

from training.engine import make_tiny_model


def _digest(directory):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())}


def test_the_tiny_model_is_the_same_for_the_same_seed(tmp_path):
    first, second = make_tiny_model(tmp_path / "a"), make_tiny_model(tmp_path / "b")
    other = make_tiny_model(tmp_path / "c", seed=1)
    assert _digest(first) == _digest(second)
    assert _digest(first)["model.safetensors"] != _digest(other)["model.safetensors"]


def test_the_tiny_model_has_pad_eos_and_a_chat_template(tiny_model_dir):
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    assert tokenizer.pad_token_id is not None and tokenizer.eos_token_id != tokenizer.pad_token_id
    messages = [{"role": "user", "content": "hello"}]
    text = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    assert text.endswith("<|im_start|>assistant\n")
    assert 100_000 < sum(p.numel() for p in model.parameters()) < 1_000_000
