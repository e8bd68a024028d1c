"""Generators against real runtimes: a random-weight GGUF on llama.cpp, a random MLX model on
mlx[cpu], plus the stop-string logic and the GGUF header reader."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
from tiny_gguf import write_tiny_gguf

from models.errors import CorruptModelError, MissingRuntimeError
from models.fake_generator import KeepingGenerator, ScriptedGenerator
from models.generator import (
    ChatMessage,
    Generator,
    Wrapped,
    cut_at_stops,
    generate,
    keep_shared_beginning,
    plain_chat,
)
from models.gguf_file import FILE_TYPES, GGML_BLOCKS, read_gguf

if TYPE_CHECKING:
    from models.llama_generator import LlamaGenerator

CHAT = [ChatMessage("system", "memories here"), ChatMessage("user", "what is my locker code?")]


@pytest.fixture(scope="module")
def tiny_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_gguf(tmp_path_factory.mktemp("gguf") / "tiny.gguf")


@pytest.fixture(scope="module")
def llama(tiny_gguf: Path):
    from models.llama_generator import LlamaGenerator

    generator = LlamaGenerator(tiny_gguf, name="tiny", context_tokens=256, threads=1)
    yield generator
    generator.close()


# -- stop strings ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pieces", "stop", "expected"),
    [
        (["Hel", "lo wor", "ld"], [], "Hello world"),
        (["The code", " is 44", "11.<|im", "_end|> more"], ["<|im_end|>"], "The code is 4411."),
        (["abc", "\n\nQ", "uestion: x"], ["\n\nQuestion:"], "abc"),
        (["<|im_end|>rest"], ["<|im_end|>"], ""),
        (["a <", "b"], ["<|x|>"], "a <b"),  # a false start is released, not lost
    ],
)
def test_cut_at_stops(pieces: list[str], stop: list[str], expected: str) -> None:
    assert "".join(cut_at_stops(pieces, stop)) == expected


def test_stop_text_is_never_yielded_even_split_across_pieces() -> None:
    out = list(cut_at_stops(["ok <|im", "_en", "d|>"], ["<|im_end|>"]))
    assert "".join(out) == "ok "
    assert not any("<|" in piece for piece in out)


def test_scripted_generator_follows_the_protocol() -> None:
    fake = ScriptedGenerator(["one two three four"])
    assert isinstance(fake, Generator)
    assert generate(fake, "prompt", max_tokens=2) == "one two"
    assert fake.prompts == ["prompt"]
    assert generate(fake, "[7] (Thu 1 January 2026) the sky is green\nq", max_tokens=50) == (
        "[7] (Thu 1 January 2026) the sky is green"
    )
    as_json = generate(fake, "[7] (Thu 1 January 2026) the sky is green", max_tokens=50, schema={})
    assert json.loads(as_json) == {
        "answer": "the sky is green",
        "memory_ids": [7],
        "status": "answered",
    }


# -- the GGUF header ------------------------------------------------------------------------


def test_gguf_header_is_read_without_a_runtime(tiny_gguf: Path) -> None:
    info = read_gguf(tiny_gguf)
    assert info.architecture == "llama"
    assert info.name == "tiny-test"
    assert info.quantization == "F32"
    assert info.context_length == 512
    assert info.chat_template
    assert "<|im_start|>" in info.chat_template
    # 2 layers x 4 kv heads x 8 dims x (k + v) x 2 bytes
    assert info.kv_bytes_per_token() == 2 * 2 * 4 * 8 * 2
    assert info.data_bytes == info.size_bytes


def test_a_truncated_gguf_is_reported_as_truncated(tiny_gguf: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(tiny_gguf.read_bytes()[:-1000])
    with pytest.raises(CorruptModelError, match="truncated"):
        read_gguf(cut)
    header_only = tmp_path / "header.gguf"
    header_only.write_bytes(tiny_gguf.read_bytes()[:200])
    with pytest.raises(CorruptModelError, match="truncated"):
        read_gguf(header_only)


def test_a_file_that_is_not_gguf_is_named_so(tmp_path: Path) -> None:
    bogus = tmp_path / "model.gguf"
    bogus.write_text("this is not a model")
    with pytest.raises(CorruptModelError, match="not a GGUF model file"):
        read_gguf(bogus)


def test_block_and_file_type_tables_match_the_gguf_package() -> None:
    import gguf

    for type_id, sizes in GGML_BLOCKS.items():
        assert tuple(gguf.GGML_QUANT_SIZES[gguf.GGMLQuantizationType(type_id)]) == sizes
    for type_id, label in FILE_TYPES.items():
        assert gguf.LlamaFileType(type_id).name.removeprefix("MOSTLY_") in (label, f"ALL_{label}")


# -- llama.cpp ------------------------------------------------------------------------------


@pytest.mark.needs("llama_cpp")
def test_llama_uses_the_chat_template_in_the_gguf(llama) -> None:
    prompt = llama.format_chat(CHAT)
    assert prompt.startswith("<|im_start|>system\nmemories here<|im_end|>")
    assert prompt.endswith("<|im_start|>assistant\n")
    # Special markers are single tokens of the model's own tokenizer.
    assert llama.count_tokens("<|im_start|>") == 2  # BOS + the marker
    assert llama.count_tokens(prompt) == len(llama.tokenize(prompt))


@pytest.mark.needs("llama_cpp")
def test_llama_without_a_template_falls_back_to_plain_chat(tmp_path: Path) -> None:
    from models.llama_generator import LlamaGenerator

    path = write_tiny_gguf(tmp_path / "bare.gguf", chat_template=None)
    generator = LlamaGenerator(path, name="bare", context_tokens=128, threads=1)
    assert not generator.has_chat_template
    assert generator.format_chat(CHAT) == plain_chat(CHAT)
    generator.close()


@pytest.mark.needs("llama_cpp")
def test_llama_streams_at_most_max_tokens(llama) -> None:
    pieces = list(llama.stream(llama.format_chat(CHAT), max_tokens=7))
    assert 1 <= len(pieces) <= 7


def test_a_prompt_alone_gives_no_beginning_to_keep() -> None:
    generator = KeepingGenerator()
    keep_shared_beginning(generator, "<|system|>\nRate.\n<|user|>\nx", "<|system|>\nRate.\n")
    keep_shared_beginning(generator, "the same prompt", "the same prompt")
    assert generator.kept == ["<|system|>\nRate.\n"]


def test_a_wrapped_generator_passes_everything_on_but_keeping_beginnings() -> None:
    inner = KeepingGenerator(['{"a": 1}'], context_tokens=321)
    wrapped = Wrapped(inner)
    assert (wrapped.name, wrapped.context_tokens, wrapped.constrains_output) == ("fake", 321, True)
    keep_shared_beginning(wrapped, "<|system|>\nRate.\n<|user|>\nx", "<|system|>\nRate.\n")
    assert inner.kept == []
    schema = {"type": "object"}
    assert generate(wrapped, "p", max_tokens=5, schema=schema) == '{"a": 1}'
    assert inner.schemas == [schema]
    assert wrapped.count_tokens("two words") == 2


@pytest.fixture
def fresh_llama(tiny_gguf: Path) -> Iterator[LlamaGenerator]:
    """A generator of its own, its cache empty, for a test that counts what it reads."""
    from models.llama_generator import LlamaGenerator

    generator = LlamaGenerator(tiny_gguf, name="tiny", context_tokens=256, threads=1)
    yield generator
    generator.close()


def counted_evals(llama: LlamaGenerator, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sizes of the batches llama.cpp is given to read, from now on: an independent count
    of what a prompt cost."""
    evaluated: list[int] = []
    real_eval = llama._llm.eval

    def counted(tokens: list[int]) -> None:
        evaluated.append(len(tokens))
        real_eval(tokens)

    monkeypatch.setattr(llama._llm, "eval", counted)
    return evaluated


@pytest.mark.needs("llama_cpp")
def test_llama_reuses_the_cached_prompt_prefix(
    fresh_llama: LlamaGenerator, monkeypatch: pytest.MonkeyPatch
) -> None:
    llama = fresh_llama
    evaluated = counted_evals(llama, monkeypatch)
    first = llama.format_chat(CHAT)
    list(llama.stream(first, max_tokens=2))
    full = evaluated[0]
    evaluated.clear()
    follow_up = llama.format_chat([*CHAT[:1], ChatMessage("user", "and the cat?")])
    list(llama.stream(follow_up, max_tokens=2))
    old_tokens, new_tokens = llama.tokenize(first), llama.tokenize(follow_up)
    shared = next(i for i, (a, b) in enumerate(zip(old_tokens, new_tokens, strict=False)) if a != b)
    assert shared > 10  # the system message and the start of the user turn
    assert llama.last_reused_tokens == shared
    # llama.cpp itself evaluated only what differs (an independent count from its eval calls).
    assert full == len(old_tokens)
    assert evaluated[0] == len(new_tokens) - shared < full


@pytest.mark.needs("llama_cpp")
def test_llama_reads_a_kept_prefix_once_while_other_prompts_come_between(
    fresh_llama: LlamaGenerator, tiny_gguf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from models.llama_generator import LlamaGenerator

    llama = fresh_llama
    evaluated = counted_evals(llama, monkeypatch)
    examples = ChatMessage("system", "what is the answer when the cat was the dog " * 3)

    def classify(question: str) -> str:
        return llama.format_chat([examples, ChatMessage("user", question)])

    keep_shared_beginning(llama, classify("my cat"), classify(""))
    prefix = len(llama.tokenize(classify(""))) - 1
    first = classify("my cat")
    list(llama.stream(first, max_tokens=1))
    assert llama.last_reused_tokens == 0
    assert sum(evaluated) == len(llama.tokenize(first))
    other = llama.format_chat([ChatMessage("user", "who was the dog")])
    list(llama.stream(other, max_tokens=2))
    assert llama.last_reused_tokens < prefix // 2  # the kept prompt is gone from the cache

    second = classify("where is my locker code")
    evaluated.clear()
    keep_shared_beginning(llama, second, classify(""))
    reply = list(llama.stream(second, max_tokens=6))
    kept = llama.last_reused_tokens
    # Copied back, not read again: only the question's tokens were evaluated.
    assert 10 < kept <= prefix
    assert evaluated[0] == len(llama.tokenize(second)) - kept
    # The copied-back cache is the prefix's own: the reply is what a fresh model gives.
    fresh = LlamaGenerator(tiny_gguf, name="tiny", context_tokens=256, threads=1)
    assert list(fresh.stream(second, max_tokens=6)) == reply
    fresh.close()


@pytest.mark.needs("llama_cpp")
def test_llama_native_log_goes_to_python_logging(
    tiny_gguf: Path, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    from models.llama_generator import LlamaGenerator

    with caplog.at_level(logging.DEBUG, logger="papertape.llama"):
        generator = LlamaGenerator(tiny_gguf, name="tiny", context_tokens=128, threads=1)
        generator.close()
    assert any("llama_context" in r.getMessage() for r in caplog.records)
    assert "llama_context" not in capfd.readouterr().err


@pytest.mark.needs("llama_cpp")
def test_a_llama_build_with_amx_kernels_is_refused_with_a_sentence(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import llama_cpp

    from models import llama_generator

    # The build scripts/setup installs leaves them out: the real runtime loads.
    assert llama_generator._runtime() is llama_cpp
    info = b"CPU : AVX2 = 1 | AVX512 = 1 | AMX_INT8 = 1 | OPENMP = 1 | "
    monkeypatch.setattr(llama_cpp, "llama_print_system_info", lambda: info)
    with pytest.raises(MissingRuntimeError, match=r"AMX kernels, which crash.*scripts/setup"):
        llama_generator._runtime()


@pytest.mark.needs("llama_cpp")
def test_llama_refuses_a_damaged_file_with_a_sentence(tiny_gguf: Path, tmp_path: Path) -> None:
    from models.llama_generator import LlamaGenerator

    bad = tmp_path / "bad.gguf"
    data = bytearray(tiny_gguf.read_bytes())
    data[8:16] = (10**9).to_bytes(8, "little")  # an absurd tensor count
    bad.write_bytes(bytes(data))
    with pytest.raises(CorruptModelError, match="could not load"):
        LlamaGenerator(bad, name="bad", context_tokens=128, threads=1)


# -- MLX on mlx[cpu] ------------------------------------------------------------------------


def write_tiny_mlx(folder: Path) -> Path:
    """A random-weight two-layer llama in MLX format, with a character-level tokenizer."""
    import mlx.core as mx
    from mlx.utils import tree_flatten
    from mlx_lm.models import llama
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    folder.mkdir(parents=True, exist_ok=True)
    words = ["<unk>", "<s>", "</s>"] + [chr(c) for c in range(32, 127)] + ["\n"]
    tokenizer = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Split("", "isolated")
    tokenizer.decoder = decoders.Fuse()
    tokenizer.save(str(folder / "tokenizer.json"))
    template = (
        "{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}\n{% endfor %}"
        "{% if add_generation_prompt %}<assistant>{% endif %}"
    )
    config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": "<s>",
        "eos_token": "</s>",
        "unk_token": "<unk>",
        "chat_template": template,
    }
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    args = {
        "model_type": "llama",
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "intermediate_size": 64,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "rms_norm_eps": 1e-5,
        "vocab_size": len(words),
        "tie_word_embeddings": True,
        "rope_theta": 10000.0,
        "max_position_embeddings": 512,
    }
    (folder / "config.json").write_text(json.dumps(args))
    model = llama.Model(llama.ModelArgs.from_dict(args))
    mx.eval(model.parameters())
    mx.save_safetensors(str(folder / "model.safetensors"), dict(tree_flatten(model.parameters())))
    return folder


@pytest.mark.needs("mlx", "mlx_lm")
def test_mlx_backend_runs_a_tiny_random_model(tmp_path: Path) -> None:
    from models.mlx_generator import MLXGenerator

    folder = write_tiny_mlx(tmp_path / "tiny-mlx")
    generator = MLXGenerator(folder, name="tiny-mlx", context_tokens=512)
    assert isinstance(generator, Generator)
    prompt = generator.format_chat(CHAT)
    assert prompt == "<system>memories here\n<user>what is my locker code?\n<assistant>"
    assert generator.count_tokens("abc") == 3  # one token per character, no BOS rule
    pieces = list(generator.stream(prompt, max_tokens=5))
    assert 1 <= len(pieces) <= 5
    whole = "".join(pieces)
    if len(whole) > 1:  # a stop string taken from the output cuts it where it first occurs
        stop = whole[len(whole) // 2 :]
        cut = "".join(generator.stream(prompt, max_tokens=5, stop=[stop]))
        assert cut == whole[: whole.find(stop)]


@pytest.mark.needs("mlx", "mlx_lm")
def test_mlx_backend_reports_a_folder_that_is_not_a_model(tmp_path: Path) -> None:
    from models.mlx_generator import MLXGenerator

    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(CorruptModelError, match="not a loadable MLX model"):
        MLXGenerator(tmp_path, name="x", context_tokens=128)


@pytest.mark.needs("llama_cpp")
def test_llama_holds_a_random_model_to_the_answer_schema(tmp_path: Path) -> None:
    """Random weights would write anything; the grammar lets through only a document of the
    schema, citing only the ids offered."""
    from agent.answer.schema import answer_schema, read_reply
    from models.llama_generator import LlamaGenerator

    generator = LlamaGenerator(
        write_tiny_gguf(tmp_path / "tiny.gguf"), name="tiny", context_tokens=512, threads=1
    )
    schema = answer_schema([3, 17])
    schema["properties"]["answer"]["maxLength"] = 6  # short, so the reply ends in the bound
    for question in ("where?", "when?", "who?"):
        raw = generate(
            generator,
            generator.format_chat([ChatMessage("user", question)]),
            max_tokens=300,
            schema=schema,
        )
        data = json.loads(raw, strict=False)  # the grammar lets control characters in
        assert list(data) == ["answer", "memory_ids", "status"]
        assert len(data["answer"]) <= 6
        assert set(data["memory_ids"]) <= {3, 17}
        assert data["status"] in ("answered", "not_in_memories", "guess")
        assert read_reply(raw, [3, 17], constrained=True).complete
    generator.close()


def reference_logprobs(path: Path, tokens: list[int], count: int) -> list[float]:
    """The log-probabilities of the last `count` of `tokens`, from a model of its own that
    keeps every position's logits and reads all the tokens at once: no cache, no batches."""
    import llama_cpp

    llm = llama_cpp.Llama(
        model_path=str(path), n_ctx=256, n_threads=1, logits_all=True, verbose=False
    )
    llm.eval(tokens)
    scores = np.asarray(llm.scores[: len(tokens)], dtype=np.float64)
    llm.close()
    shifted = scores - scores.max(axis=1, keepdims=True)
    logs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    start = len(tokens) - count
    return [float(logs[i - 1, tokens[i]]) for i in range(start, len(tokens))]


@pytest.mark.needs("llama_cpp")
def test_llama_scores_a_continuation_as_a_model_reading_it_whole_does(
    fresh_llama: LlamaGenerator, tiny_gguf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    llama = fresh_llama
    prompt = llama.format_chat(CHAT)
    reply = "".join(llama.stream(prompt, max_tokens=8))
    continuation = "the cat was my locker code"
    evaluated = counted_evals(llama, monkeypatch)
    scored = llama.logprobs(prompt, continuation)
    head = llama.tokenize(prompt)
    tail = list(llama._llm.tokenize(continuation.encode(), add_bos=False, special=False))
    assert len(scored) == len(tail) > 3
    assert scored == pytest.approx(reference_logprobs(tiny_gguf, head + tail, len(tail)), abs=1e-3)
    assert all(value < 0 for value in scored)
    # The prompt came from the cache the answer left: none of it was read again.
    assert sum(evaluated) <= 1
    # The greedy reply is, token by token, what the model found likeliest.
    greedy = llama.logprobs(prompt, reply)
    assert sum(greedy) / len(greedy) > sum(scored) / len(scored)
    # What was left in the cache does not change what the model says next.
    fresh = type(llama)(tiny_gguf, name="tiny", context_tokens=256, threads=1)
    assert "".join(llama.stream(prompt, max_tokens=8)) == "".join(
        fresh.stream(prompt, max_tokens=8)
    )
    fresh.close()
