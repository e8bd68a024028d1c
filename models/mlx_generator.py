"""MLX backend (mlx / mlx-lm): the generator on Apple silicon, for MLX model folders.

On Linux the same code runs on `mlx[cpu]`, which is how the tests exercise it. mlx-lm reads
the folder's config.json, safetensors weights and Hugging Face tokenizer files; the hub is
switched off before it is imported, so a missing file is an error, never a download.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from models.errors import CorruptModelError, MissingRuntimeError, UnconstrainedError
from models.generator import ChatMessage, JsonSchema, cut_at_stops, plain_chat


def _mlx_lm() -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import mlx_lm
    except ImportError as exc:
        raise MissingRuntimeError(
            "MLX models need mlx and mlx-lm: pip install 'papertape[mlx]'."
        ) from exc
    return mlx_lm


class MLXGenerator:
    # mlx-lm has no JSON-schema decoding of its own; callers fall back to plain text, marked.
    constrains_output = False

    def __init__(self, path: Path, *, name: str, context_tokens: int) -> None:
        self._mlx_lm = _mlx_lm()
        self.name = name
        self.context_tokens = context_tokens
        try:
            self._model, self._tokenizer = self._mlx_lm.load(str(path))
        except Exception as exc:  # mlx-lm raises many types for a bad folder
            raise CorruptModelError(f"{path} is not a loadable MLX model ({exc}).") from None
        self._bos = getattr(self._tokenizer, "bos_token", None) or ""

    def format_chat(self, messages: Sequence[ChatMessage]) -> str:
        if getattr(self._tokenizer, "chat_template", None):
            rendered: str = self._tokenizer.apply_chat_template(
                [{"role": m.role, "content": m.content} for m in messages],
                add_generation_prompt=True,
                tokenize=False,
            )
            return rendered
        return plain_chat(messages)

    def _tokens(self, text: str) -> list[int]:
        # A template that writes the BOS token itself must not get a second one.
        add_special = not (self._bos and text.startswith(self._bos))
        return list(self._tokenizer.encode(text, add_special_tokens=add_special))

    def count_tokens(self, text: str) -> int:
        return len(self._tokens(text))

    def stream(
        self,
        prompt: str,
        *,
        max_tokens: int,
        stop: Sequence[str] = (),
        schema: JsonSchema | None = None,
    ) -> Iterator[str]:
        if schema is not None:
            raise UnconstrainedError(
                f"{self.name} runs on mlx-lm, which cannot hold its output to a schema."
            )
        responses = self._mlx_lm.stream_generate(
            self._model, self._tokenizer, self._tokens(prompt), max_tokens=max_tokens
        )
        return cut_at_stops((r.text for r in responses), stop)
