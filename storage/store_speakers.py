"""Who said a memory, where it was said by someone (a line of a chat or a transcript): kept
beside its text so a check can ask whose words an answer rests on without reading the text's
format."""

from __future__ import annotations

from collections.abc import Sequence

from storage.store_base import StorePart, id_chunks


class Speakers(StorePart):
    def set_speaker(self, memory_id: int, speaker: str) -> None:
        with self.transaction():
            self.conn.execute(
                "INSERT OR REPLACE INTO memory_speakers (memory_id, speaker) VALUES (?, ?)",
                (memory_id, speaker),
            )

    def speakers_of(self, ids: Sequence[int]) -> dict[int, str]:
        """The speakers of those of `ids` that have one."""
        found: dict[int, str] = {}
        for chunk, marks in id_chunks(ids):
            rows = self.conn.execute(
                f"SELECT memory_id, speaker FROM memory_speakers WHERE memory_id IN ({marks})",
                chunk,
            )
            found.update((int(memory_id), str(speaker)) for memory_id, speaker in rows)
        return found

    def speaker_names(self) -> list[str]:
        """Everyone who said something the store holds, most lines first."""
        rows = self.conn.execute(
            "SELECT speaker FROM memory_speakers GROUP BY speaker ORDER BY count(*) DESC, speaker"
        )
        return [str(speaker) for (speaker,) in rows]
