"""all-MiniLM-L6-v2 (int8 ONNX) on onnxruntime: mean-pooled, L2-normalised 384-d vectors."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from models.catalog import model_file, verified_path
from models.errors import MissingRuntimeError, ModelError

log = logging.getLogger(__name__)

# all-MiniLM-L6-v2 was trained on sequences of up to 256 word pieces.
MAX_TOKENS = 256
BATCH = 32


def _runtimes() -> tuple[Any, Any]:
    try:
        import onnxruntime
        from tokenizers import Tokenizer
    except ImportError as exc:
        raise MissingRuntimeError(
            "the MiniLM embedder needs onnxruntime and tokenizers: run scripts/setup, or "
            "pip install 'papertape[onnx]'."
        ) from exc
    return onnxruntime, Tokenizer


class MiniLMEmbedder:
    name = "minilm"
    dim = 384

    def __init__(self, model_path: Path, tokenizer_path: Path, threads: int | None = None) -> None:
        ort, tokenizer_cls = _runtimes()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or max(1, os.cpu_count() or 1)
        options.log_severity_level = 3  # keep onnxruntime's own chatter off the terminal
        # Idle pool threads sleep instead of spinning: in the daemon they share two cores
        # with the socket threads and the language model.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self._session = ort.InferenceSession(
                str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
            )
            self._tokenizer = tokenizer_cls.from_file(str(tokenizer_path))
        except Exception as exc:  # the runtimes raise their own exception types
            raise ModelError(f"could not load the MiniLM embedder: {exc}.") from exc
        # The shipped tokenizer pads every input to 128; pad to the batch's longest instead.
        self._tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self._inputs = {i.name for i in self._session.get_inputs()}
        log.debug("MiniLM loaded from %s", model_path)

    @classmethod
    def load(cls) -> MiniLMEmbedder:
        return cls.from_installed_packages()

    @classmethod
    def from_installed_packages(cls) -> MiniLMEmbedder:
        return cls(
            verified_path(model_file("minilm-int8-onnx")),
            verified_path(model_file("minilm-tokenizer")),
        )

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # Sorting by length keeps padding small inside each batch.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(order), BATCH):
            chunk = order[start : start + BATCH]
            out[chunk] = self._embed_batch([texts[i] for i in chunk])
        return out

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden: np.ndarray = self._session.run(None, feeds)[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        unit: np.ndarray = (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)
        return unit
