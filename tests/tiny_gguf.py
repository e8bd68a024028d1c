"""Write a tiny random-weight llama GGUF for runtime tests (a few hundred KB, loads in ms).

The weights are noise, so the text it generates is too; what the tests check is the path
through llama.cpp: loading, the chat template, tokenising, streaming, stopping, caching.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from models.llama_generator import LlamaGenerator

TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{{ message['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
WORDS = [
    "the",
    "a",
    "my",
    "is",
    "was",
    "code",
    "locker",
    "cat",
    "dog",
    "name",
    "what",
    "when",
    "where",
    "who",
    "answer",
    "memory",
]


def write_tiny_gguf(
    path: Path, *, chat_template: str | None = TEMPLATE, seed: int = 0, context: int = 512
) -> Path:
    import gguf

    rng = np.random.default_rng(seed)
    tokens = ["<unk>", "<s>", "</s>", "<|im_start|>", "<|im_end|>"]
    types = [2, 3, 3, 3, 3]  # unknown, control x4
    tokens += [f"<0x{b:02X}>" for b in range(256)]
    types += [6] * 256  # byte fallback: any text can be tokenised
    pieces = ["▁"] + [chr(c) for c in range(ord("a"), ord("z") + 1)] + ["▁" + w for w in WORDS]
    tokens += pieces
    types += [1] * len(pieces)
    scores = [0.0] * 261 + [-float(i) for i in range(len(pieces))]

    embed, layers, heads, ff = 32, 2, 4, 64
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("tiny-test")
    writer.add_context_length(context)
    writer.add_embedding_length(embed)
    writer.add_block_count(layers)
    writer.add_feed_forward_length(ff)
    writer.add_head_count(heads)
    writer.add_head_count_kv(heads)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_rope_dimension_count(embed // heads)
    writer.add_file_type(0)  # all F32
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_unk_token_id(0)
    writer.add_add_bos_token(True)
    if chat_template:
        writer.add_chat_template(chat_template)

    def weight(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape) * 0.2).astype(np.float32)

    vocab = len(tokens)
    writer.add_tensor("token_embd.weight", weight(vocab, embed))
    for i in range(layers):
        writer.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(embed, dtype=np.float32))
        for name in ("attn_q", "attn_k", "attn_v", "attn_output"):
            writer.add_tensor(f"blk.{i}.{name}.weight", weight(embed, embed))
        writer.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(embed, dtype=np.float32))
        writer.add_tensor(f"blk.{i}.ffn_gate.weight", weight(ff, embed))
        writer.add_tensor(f"blk.{i}.ffn_up.weight", weight(ff, embed))
        writer.add_tensor(f"blk.{i}.ffn_down.weight", weight(embed, ff))
    writer.add_tensor("output_norm.weight", np.ones(embed, dtype=np.float32))
    writer.add_tensor("output.weight", weight(vocab, embed))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def tiny_llama(folder: Path, *, context: int = 1024) -> LlamaGenerator:
    """A llama.cpp generator over a tiny random model written into `folder`: real decoding
    under a grammar, in milliseconds."""
    from models.llama_generator import LlamaGenerator

    path = write_tiny_gguf(folder / "tiny.gguf", context=context)
    return LlamaGenerator(path, name="tiny", context_tokens=context, threads=1)
