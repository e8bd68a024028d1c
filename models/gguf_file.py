"""Read a GGUF file's header without a runtime: its metadata, and whether the file is whole.

llama.cpp reports a corrupt or truncated file with a bare "failed to load model"; reading the
header first lets papertape say which is wrong, and lets the catalog show a model's
architecture, quantization and context size without loading it.

The format (little-endian): b"GGUF", version u32, tensor count u64, metadata count u64, the
metadata key/value pairs, the tensor infos, then tensor data at an aligned offset.
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models.errors import CorruptModelError

MAGIC = b"GGUF"
# Value type ids -> struct format for the fixed-size ones.
_SCALARS = {
    0: "B",
    1: "b",
    2: "H",
    3: "h",
    4: "I",
    5: "i",
    6: "f",
    7: "?",
    10: "Q",
    11: "q",
    12: "d",
}
_STRING, _ARRAY = 8, 9
# ggml tensor type id -> (elements per block, bytes per block); checked against the gguf
# package's own table in the tests.
GGML_BLOCKS: dict[int, tuple[int, int]] = {
    0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34),
    9: (32, 40), 10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176), 14: (256, 210),
    15: (256, 292), 16: (256, 66), 17: (256, 74), 18: (256, 98), 19: (256, 50), 20: (32, 18),
    21: (256, 110), 22: (256, 82), 23: (256, 136), 24: (1, 1), 25: (1, 2), 26: (1, 4),
    27: (1, 8), 28: (1, 8), 29: (256, 56), 30: (1, 2), 34: (256, 54), 35: (256, 66),
}  # fmt: skip
# llama.cpp's file types (general.file_type) -> the usual quantization label.
FILE_TYPES = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K",
    11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S",
    17: "Q5_K_M", 18: "Q6_K", 19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS",
    23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL", 26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S",
    29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16", 36: "TQ1_0", 37: "TQ2_0",
}  # fmt: skip


@dataclass(frozen=True)
class GGUFInfo:
    path: Path
    version: int
    size_bytes: int
    metadata: dict[str, Any] = field(repr=False)  # scalars and strings; arrays as their length
    tensor_count: int
    data_bytes: int  # where the last tensor ends

    def get(self, key: str, default: Any = None) -> Any:
        return self.metadata.get(key, default)

    @property
    def architecture(self) -> str:
        return str(self.get("general.architecture", "unknown"))

    def arch(self, key: str, default: Any = None) -> Any:
        return self.get(f"{self.architecture}.{key}", default)

    @property
    def name(self) -> str | None:
        value = self.get("general.name")
        return str(value) if value else None

    @property
    def quantization(self) -> str:
        file_type = self.get("general.file_type")
        return FILE_TYPES.get(file_type, "unknown") if file_type is not None else "unknown"

    @property
    def context_length(self) -> int | None:
        value = self.arch("context_length")
        return int(value) if value else None

    @property
    def chat_template(self) -> str | None:
        value = self.get("tokenizer.chat_template")
        return str(value) if value else None

    def kv_bytes_per_token(self) -> int:
        """Bytes of f16 key/value cache one token of context takes (0 when unknown)."""
        layers = int(self.arch("block_count", 0) or 0)
        heads = int(self.arch("attention.head_count", 0) or 0)
        kv_heads = int(self.arch("attention.head_count_kv", heads) or heads)
        width = int(self.arch("embedding_length", 0) or 0)
        if not (layers and heads and width):
            return 0
        head_dim = width // heads
        return 2 * layers * kv_heads * head_dim * 2


_U64 = struct.Struct("<Q")


class _Reader:
    """Parses from a memory map: a vocabulary array of 150,000 strings is skipped in tens of
    milliseconds, where a read() per string took ten times as long."""

    def __init__(self, data: Any, path: Path) -> None:
        self.data = data
        self.pos = 0
        self.path = path

    def _truncated(self) -> CorruptModelError:
        return CorruptModelError(f"{self.path} ends inside its GGUF header: it is truncated.")

    def take(self, n: int) -> bytes:
        end = self.pos + n
        if end > len(self.data):
            raise self._truncated()
        chunk = bytes(self.data[self.pos : end])
        self.pos = end
        return chunk

    def scalar(self, fmt: str) -> Any:
        try:
            value = struct.unpack_from("<" + fmt, self.data, self.pos)[0]
        except struct.error:
            raise self._truncated() from None
        self.pos += struct.calcsize(fmt)
        return value

    def string(self) -> str:
        length = self.scalar("Q")
        if length > 1 << 26:
            raise CorruptModelError(f"{self.path} has an impossible string length: corrupt.")
        return self.take(length).decode("utf-8", errors="replace")

    def skip_strings(self, count: int) -> None:
        pos, data, unpack = self.pos, self.data, _U64.unpack_from
        try:
            for _ in range(count):
                pos += 8 + unpack(data, pos)[0]
        except struct.error:
            raise self._truncated() from None
        if pos > len(data):
            raise self._truncated()
        self.pos = pos

    def skip(self, n: int) -> None:
        if self.pos + n > len(self.data):
            raise self._truncated()
        self.pos += n

    def value(self, kind: int) -> Any:
        if kind in _SCALARS:
            return self.scalar(_SCALARS[kind])
        if kind == _STRING:
            return self.string()
        if kind == _ARRAY:
            item_kind, count = self.scalar("I"), self.scalar("Q")
            if item_kind == _STRING:
                self.skip_strings(count)
            elif item_kind in _SCALARS:
                self.skip(count * struct.calcsize(_SCALARS[item_kind]))
            else:
                for _ in range(count):
                    self.value(item_kind)
            return count
        raise CorruptModelError(f"{self.path} has an unknown GGUF value type {kind}: corrupt.")


# Headers already read, by (path, size, mtime): the catalog, the device plan and the loader
# each ask for the same file's header.
_cache: dict[tuple[str, int, int], GGUFInfo] = {}


def read_gguf(path: Path | str) -> GGUFInfo:
    """Parse the header and tensor table; raise CorruptModelError when the file is not whole."""
    path = Path(path)
    try:
        stat = path.stat()
        handle = path.open("rb")
    except OSError as exc:
        raise CorruptModelError(f"cannot read {path}: {exc.strerror or exc}.") from None
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    with handle:
        if key in _cache:
            return _cache[key]
        if handle.read(4) != MAGIC:
            raise CorruptModelError(f"{path} is not a GGUF model file (it lacks the GGUF magic).")
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            info = _parse(_Reader(data, path), path, stat.st_size)
    _cache[key] = info
    return info


def _parse(reader: _Reader, path: Path, size: int) -> GGUFInfo:
    reader.skip(4)  # the magic, already checked
    version = reader.scalar("I")
    if version not in (2, 3):
        raise CorruptModelError(f"{path} is GGUF version {version}; papertape reads 2 and 3.")
    tensor_count, kv_count = reader.scalar("Q"), reader.scalar("Q")
    if tensor_count > 1 << 20 or kv_count > 1 << 20:
        raise CorruptModelError(f"{path} has an impossible GGUF header: corrupt.")
    metadata: dict[str, Any] = {}
    for _ in range(kv_count):
        key = reader.string()
        metadata[key] = reader.value(reader.scalar("I"))
    end = 0
    for _ in range(tensor_count):
        reader.skip_strings(1)
        dims = [reader.scalar("Q") for _ in range(reader.scalar("I"))]
        kind, offset = reader.scalar("I"), reader.scalar("Q")
        elements = 1
        for d in dims:
            elements *= d
        block, block_bytes = GGML_BLOCKS.get(kind, (0, 0))
        if block:
            end = max(end, offset + elements // block * block_bytes)
    alignment = int(metadata.get("general.alignment", 32) or 32)
    data_end = -(-reader.pos // alignment) * alignment + end
    if data_end > size:
        raise CorruptModelError(
            f"{path} is truncated: it has {size:,} bytes but its tensors need {data_end:,}."
        )
    return GGUFInfo(path, version, size, metadata, tensor_count, data_end)
