"""llama.cpp backend (llama-cpp-python) for GGUF models.

- The chat template is the one in the GGUF (tokenizer.chat_template), rendered with the
  runtime's own Jinja formatter; a file without one gets a neutral ChatML layout.
- One Llama instance lives as long as the generator, and llama.cpp keeps the key/value cache
  of the last prompt: a new prompt that starts the same way (the same instructions and
  memories, a follow-up question) only evaluates what differs. `last_reused_tokens` says how
  many tokens the last prompt took from that cache.
- A prompt beginning that many prompts share but others come between (a classifier's
  instructions and worked examples, read before each answer) can be kept (`keep_prefix`):
  its key/value cache is copied out once (about 28 KB a token for a 1.5B) and copied back
  when a prompt starts with it, instead of reading it again.
- llama.cpp's native log lines go to the Python logger "papertape.llama", not the terminal.
- Decoding is greedy: an answer from memory should not vary from run to run.
- `logprobs` reads how likely the model finds a given continuation of a prompt, token by
  token, from the same cache: a check can ask whether an answer is likelier after another
  prompt without decoding anything.
- A JSON schema becomes a llama.cpp grammar (the runtime's own converter), applied while
  decoding: the model can only emit text that stays a valid prefix of a matching document.
"""

from __future__ import annotations

import ctypes
import json
import logging
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from models.errors import CorruptModelError, MissingRuntimeError, ModelError
from models.generator import (
    PLAIN_CHAT_STOPS,
    ChatMessage,
    JsonSchema,
    cut_at_stops,
    plain_chat,
)

native_log = logging.getLogger("papertape.llama")

# ggml log levels, from the ggml.h installed with llama-cpp-python 0.3.36: 0 none, 1 debug,
# 2 info, 3 warn, 4 error, 5 continues the previous line's level.
_LEVELS = {0: logging.INFO, 1: logging.DEBUG, 2: logging.INFO, 3: logging.WARNING, 4: logging.ERROR}
_callback: Any = None  # kept referenced: llama.cpp holds a raw pointer to it
_last_level = logging.DEBUG
# In llama.cpp's system info when its AMX kernels were compiled in (a native build on an Intel
# Xeon since Sapphire Rapids); those kernels crash in decode, so such a build is refused
# rather than left to take the process down.
AMX_BUILD = b"AMX_INT8 = 1"
KEPT_PREFIXES = 4  # the most recently used are kept; each holds its tokens' cache


def _runtime() -> Any:
    try:
        import llama_cpp
    except ImportError as exc:
        raise MissingRuntimeError(
            "GGUF models need llama-cpp-python: run scripts/setup, or pip install "
            "'papertape[llm]' (it compiles llama.cpp, about 6 minutes)."
        ) from exc
    if AMX_BUILD in llama_cpp.llama_print_system_info():
        raise MissingRuntimeError(
            "this llama-cpp-python was compiled with llama.cpp's AMX kernels, which crash on "
            "this CPU (llama.cpp issue 20824): run scripts/setup, which compiles it without them."
        )
    _route_native_logs(llama_cpp)
    return llama_cpp


def _route_native_logs(llama_cpp: Any) -> None:
    global _callback
    if _callback is not None:
        return

    # llama_cpp ships no types, so its decorator is untyped.
    @llama_cpp.llama_log_callback  # type: ignore[untyped-decorator]
    def forward(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
        global _last_level
        python_level = _last_level if level == 5 else _LEVELS.get(level, logging.DEBUG)
        _last_level = python_level
        line = text.decode("utf-8", errors="replace").rstrip()
        if line and line != "." and native_log.isEnabledFor(python_level):
            native_log.log(python_level, "%s", line)

    _callback = forward
    llama_cpp.llama_log_set(_callback, ctypes.c_void_p(0))


class LlamaGenerator:
    constrains_output = True

    def __init__(self, path: Path, *, name: str, context_tokens: int, threads: int) -> None:
        llama_cpp = _runtime()
        self.name = name
        try:
            # verbose=False keeps llama-cpp-python's own prints off the terminal; the native
            # log still reaches Python logging through the callback above.
            self._llm = llama_cpp.Llama(
                model_path=str(path),
                n_ctx=context_tokens,
                n_threads=threads,
                n_threads_batch=threads,
                n_batch=512,
                verbose=False,
            )
        except ValueError as exc:
            raise CorruptModelError(
                f"llama.cpp could not load {path} ({exc}); the file may be damaged or made "
                "for a newer llama.cpp."
            ) from None
        self.context_tokens = int(self._llm.n_ctx())
        self.last_reused_tokens = 0
        # kept prompt beginnings -> their sequence's key/value cache (None until first read)
        self._kept: OrderedDict[tuple[int, ...], bytes | None] = OrderedDict()
        self._template = self._llm.metadata.get("tokenizer.chat_template")
        self._stops: tuple[str, ...] = () if self._template else PLAIN_CHAT_STOPS
        if self._template:
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            model = self._llm._model
            eos, bos = self._llm.token_eos(), self._llm.token_bos()
            self._bos_text = model.token_get_text(bos) if bos != -1 else ""
            self._formatter: Any = Jinja2ChatFormatter(
                template=self._template,
                eos_token=model.token_get_text(eos) if eos != -1 else "",
                bos_token=self._bos_text,
            )
        else:
            self._bos_text = ""

    @property
    def has_chat_template(self) -> bool:
        return bool(self._template)

    def format_chat(self, messages: Sequence[ChatMessage]) -> str:
        if not self._template:
            return plain_chat(messages)
        rendered = self._formatter(
            messages=[{"role": m.role, "content": m.content} for m in messages]
        )
        return str(rendered.prompt)

    def tokenize(self, text: str) -> list[int]:
        # A template that writes the BOS token itself must not get a second one.
        add_bos = not (self._bos_text and text.startswith(self._bos_text))
        return list(self._llm.tokenize(text.encode("utf-8"), add_bos=add_bos, special=True))

    def count_tokens(self, text: str) -> int:
        return len(self.tokenize(text))

    def keep_prefix(self, prefix: str) -> None:
        """Keep the cache of `prefix` for the prompts that start with it: it is read at the
        first such prompt, and copied back when another prompt has replaced it since."""
        # The last token may merge with what follows the prefix in a prompt: leave it out.
        tokens = tuple(self.tokenize(prefix)[:-1])
        if not tokens:
            return
        if tokens in self._kept:
            self._kept.move_to_end(tokens)
            return
        self._kept[tokens] = None
        while len(self._kept) > KEPT_PREFIXES:
            self._kept.popitem(last=False)

    def stream(
        self,
        prompt: str,
        *,
        max_tokens: int,
        stop: Sequence[str] = (),
        schema: JsonSchema | None = None,
    ) -> Iterator[str]:
        tokens = self.tokenize(prompt)
        room = self.context_tokens - len(tokens)
        if room <= 0:
            raise ModelError(
                f"the prompt is {len(tokens)} tokens, more than the model's "
                f"{self.context_tokens}-token context."
            )
        self.last_reused_tokens = self._reuse(tokens)
        grammar = None
        if schema is not None:
            from llama_cpp.llama_grammar import LlamaGrammar

            grammar = LlamaGrammar.from_json_schema(json.dumps(schema), verbose=False)
        chunks = self._llm.create_completion(
            tokens,
            max_tokens=min(max_tokens, room),
            temperature=0.0,
            repeat_penalty=1.0,
            stop=list(self._stops),
            stream=True,
            grammar=grammar,
        )
        pieces = (chunk["choices"][0]["text"] for chunk in chunks)
        # Empty chunks (a token that ends inside a UTF-8 character, the closing chunk) are
        # dropped: a piece is text, at most one per generated token.
        return cut_at_stops((piece for piece in pieces if piece), stop)

    def logprobs(self, prompt: str, continuation: str) -> list[float]:
        """The natural-log probability the model gives each token of `continuation` when it
        follows `prompt`, decoding nothing: what the prompt shares with the cache is not read
        again, and the continuation is read in one batch that keeps every position's logits."""
        head = self.tokenize(prompt)
        tail = list(self._llm.tokenize(continuation.encode("utf-8"), add_bos=False, special=False))
        if not head or not tail:
            return []
        if len(head) + len(tail) > self.context_tokens:
            raise ModelError(
                f"the prompt and continuation are {len(head) + len(tail)} tokens, more than "
                f"the model's {self.context_tokens}-token context."
            )
        llm = self._llm
        # Everything but the prompt's last token comes from the cache or is read as usual;
        # that token and the continuation are read together, each with its logits.
        reused = min(self._reuse(head + tail), len(head) - 1)
        llm.n_tokens = reused
        llm.eval(head[reused:-1])
        scored = [head[-1], *tail[:-1]]
        vocab = llm.n_vocab()
        rows: list[np.ndarray] = []
        for start in range(0, len(scored), llm.n_batch):
            batch = scored[start : start + llm.n_batch]
            llm._ctx.kv_cache_seq_rm(-1, llm.n_tokens, -1)
            llm._batch.set_batch(batch=batch, n_past=llm.n_tokens, logits_all=True)
            llm._ctx.decode(llm._batch)
            logits = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(len(batch), vocab))
            rows.append(np.array(logits, dtype=np.float64))
            llm.input_ids[llm.n_tokens : llm.n_tokens + len(batch)] = batch
            llm.n_tokens += len(batch)
        llm._requires_eval = True  # the logits left are the batch's, not a prompt's end
        logits = np.concatenate(rows)
        top = logits.max(axis=1)
        norm = top + np.log(np.exp(logits - top[:, None]).sum(axis=1))
        picked = logits[np.arange(len(tail)), tail]
        return [float(x) for x in picked - norm]

    def _reuse(self, tokens: Sequence[int]) -> int:
        """Ready the cache for `tokens`: what it holds of their beginning, or a kept prefix
        copied back when that is longer. Returns how many tokens need not be read."""
        reused = self._cached_prefix(tokens)
        kept = self._kept_prefix_of(tokens)
        if kept is not None and len(kept) > reused:
            reused = self._restore(kept, reused)
        return reused

    def _cached_prefix(self, tokens: Sequence[int]) -> int:
        """How many of `tokens` the context's cache already holds, from the start."""
        reused = 0
        for old, new in zip(self._llm._input_ids[: self._llm.n_tokens], tokens, strict=False):
            if old != new:
                break
            reused += 1
        return reused

    def _kept_prefix_of(self, tokens: Sequence[int]) -> tuple[int, ...] | None:
        """The longest kept prefix that `tokens` start with and go on after."""
        found = [
            kept
            for kept in self._kept
            if len(kept) < len(tokens) and tuple(tokens[: len(kept)]) == kept
        ]
        return max(found, key=len) if found else None

    def _restore(self, kept: tuple[int, ...], reused: int) -> int:
        """Make the context hold exactly `kept`'s cache: copied back when it was read
        before, otherwise read now (after the `reused` tokens the cache already holds) and
        copied out. Returns how many tokens were taken from a cache, not read."""
        llm, ctx = self._llm, self._llm._ctx.ctx
        llama_cpp = _runtime()
        state = self._kept[kept]
        self._kept.move_to_end(kept)
        if state is None:
            llm.n_tokens = reused
            llm.eval(list(kept[reused:]))  # drops the cache after `reused` first
            size = llama_cpp.llama_state_seq_get_size(ctx, 0)
            buffer = (ctypes.c_uint8 * size)()
            llama_cpp.llama_state_seq_get_data(ctx, buffer, size, 0)
            self._kept[kept] = bytes(buffer)
            return reused
        llm._ctx.kv_cache_seq_rm(-1, 0, -1)
        buffer = (ctypes.c_uint8 * len(state)).from_buffer_copy(state)
        if llama_cpp.llama_state_seq_set_data(ctx, buffer, len(state), 0) != len(state):
            # Nothing is lost but time: the prompt is read in full.
            llm._ctx.kv_cache_seq_rm(-1, 0, -1)
            llm.n_tokens = 0
            del self._kept[kept]
            return 0
        llm.input_ids[: len(kept)] = kept
        llm.n_tokens = len(kept)
        llm._requires_eval = True  # the logits are not the kept prompt's
        return len(kept)

    def close(self) -> None:
        self._llm.close()
