"""Hashed n-gram features of a message: what the learned screen reads.

Word unigrams and bigrams plus character trigrams inside words, taken from the message's folded
words (look-alikes, leetspeak and spread-out letters already undone), hashed into 2^16 buckets
with CRC-32 (stable across processes, unlike `hash`). Word unigrams are hashed a second time
tagged with the space, so one pooled model per policy can still learn a server's own slang.

scikit-learn's HashingVectorizer computes the same kind of features but costs ~360 µs for one
message; this costs ~20 µs, which keeps the prefilter above 5,000 messages a second.
"""

from __future__ import annotations

import zlib

import numpy as np
import numpy.typing as npt

from bot.core.prefilter import PreparedText

N_FEATURES = 1 << 16
_MASK = N_FEATURES - 1
_MAX_WORDS = 80  # a long message is judged by its first words; the cost stays bounded

Indices = npt.NDArray[np.uint16]


def _hashes(words: tuple[str, ...], space_id: str) -> list[int]:
    crc = zlib.crc32
    out: list[int] = []
    tag = f"s{space_id}:".encode()
    prev = ""
    for word in words[:_MAX_WORDS]:
        raw = word.encode()
        out.append(crc(raw))
        if space_id:
            out.append(crc(raw, crc(tag)))
        if prev:
            out.append(crc(f"{prev} {word}".encode()))
        prev = word
        if len(word) > 3:
            padded = f"<{word}>"
            out.extend(crc(padded[i : i + 3].encode(), 7) for i in range(len(padded) - 2))
    if space_id:
        out.append(crc(tag))  # the space's own bias
    return out


def features(prepared: PreparedText, space_id: str = "") -> Indices:
    """Bucket indices of the message's features (a bucket may repeat: it then counts twice)."""
    hashed = _hashes(prepared.squeezed_words.seq, space_id)
    return (np.fromiter(hashed, dtype=np.uint32, count=len(hashed)) & _MASK).astype(np.uint16)


def text_features(text: str, space_id: str = "") -> Indices:
    return features(PreparedText.of(text), space_id)
