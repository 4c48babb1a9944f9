"""The harmony encoding, loaded without a network.

openai-harmony downloads o200k_base.tiktoken on first use unless TIKTOKEN_ENCODINGS_BASE points
at a folder that holds it. PyPI's bpe-openai ships the file, so we unpack it once into a cache
folder and point harmony there; harmony verifies the sha256 itself.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from importlib import resources
from pathlib import Path

from openai_harmony import HarmonyEncoding, HarmonyEncodingName, load_harmony_encoding

O200K_FILE = "o200k_base.tiktoken"
O200K_SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"
ENV_VAR = "TIKTOKEN_ENCODINGS_BASE"


class EncodingUnavailableError(RuntimeError):
    """The tokenizer file is missing or damaged; the message says how to fix it."""


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "modbot" / "tiktoken"


def ensure_encoding_files(cache_dir: Path | None = None) -> Path:
    """Make sure a folder with o200k_base.tiktoken exists and harmony will look there."""
    configured = os.environ.get(ENV_VAR)
    if configured and (Path(configured) / O200K_FILE).is_file():
        return Path(configured)
    folder = cache_dir or default_cache_dir()
    target = folder / O200K_FILE
    if not target.is_file() or _sha256(target) != O200K_SHA256:
        packed = resources.files("bpe_openai").joinpath("data", O200K_FILE + ".gz")
        try:
            data = gzip.decompress(packed.read_bytes())
        except (FileNotFoundError, OSError) as exc:
            raise EncodingUnavailableError(
                f"cannot unpack {O200K_FILE} from the bpe-openai package ({exc}); "
                f"reinstall modbot or set {ENV_VAR} to a folder holding {O200K_FILE}"
            ) from exc
        if hashlib.sha256(data).hexdigest() != O200K_SHA256:
            raise EncodingUnavailableError(
                f"{O200K_FILE} from bpe-openai has an unexpected checksum; "
                f"set {ENV_VAR} to a folder holding the official file"
            )
        folder.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(target)
    os.environ[ENV_VAR] = str(folder)
    return folder


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_encoding(cache_dir: Path | None = None) -> HarmonyEncoding:
    """Load the gpt-oss harmony encoding (about half a second; call once and pass it around)."""
    ensure_encoding_files(cache_dir)
    try:
        return load_harmony_encoding(HarmonyEncodingName.HARMONY_GPT_OSS)
    except Exception as exc:  # harmony raises its own opaque error type
        raise EncodingUnavailableError(
            f"openai-harmony could not load its encoding: {exc}. "
            f"Check that {ENV_VAR} points at a folder with {O200K_FILE}"
        ) from exc


class TokenCounter:
    """Counts tokens the way the model will see them."""

    def __init__(self, encoding: HarmonyEncoding) -> None:
        self.encoding = encoding

    def count(self, text: str) -> int:
        # Special-token text is counted as plain text: that is how harmony renders content.
        return len(self.encoding.encode(text, disallowed_special=()))

    def has_special_tokens(self, text: str) -> bool:
        return any(tok in text for tok in self.encoding.special_tokens_set())
