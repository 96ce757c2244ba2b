"""GPT-2 byte-level BPE from GGUF metadata (``tokenizer.ggml.*``): the tokenizer of SmolLM2 and other Llama-family
files, with the pre-tokenizer their ``tokenizer.ggml.pre`` names (llama.cpp ``llama-vocab.cpp``)."""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from itertools import pairwise


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's byte-to-character map: printable Latin-1 bytes map to themselves, the other 68 bytes to U+0100
    onwards in byte order, so that every byte string is a string of visible characters (``" "`` is ``"Ġ"``)."""
    keep = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    extra = [b for b in range(256) if b not in keep]
    return {**{b: chr(b) for b in keep}, **{b: chr(256 + i) for i, b in enumerate(extra)}}


@cache
def _category_class(prefix: str) -> str:
    """The body of a ``re`` character class with every code point whose general category starts with ``prefix``
    (``"L"``: ``\\p{L}``, ``"N"``: ``\\p{N}``), as ranges; ``re`` has no ``\\p{..}``."""
    ranges, start = [], None
    for cp in range(sys.maxunicode + 2):
        inside = cp <= sys.maxunicode and unicodedata.category(chr(cp)).startswith(prefix)
        if inside and start is None:
            start = cp
        elif not inside and start is not None:
            ranges.append(re.escape(chr(start)) + ("-" + re.escape(chr(cp - 1)) if cp - 1 > start else ""))
            start = None
    return "".join(ranges)


# Unicode White_Space, which the reference's \s is; Python's \s also matches U+001C..U+001F.
_SPACE = "\\t-\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"


@cache
def pre_tokenizer(pre: str) -> tuple[re.Pattern, ...]:
    """The split regexes of ``tokenizer.ggml.pre``, applied in order, each to the pieces of the one before.

    ``"smollm"`` (llama.cpp ``LLAMA_VOCAB_PRE_TYPE_SMOLLM``; HF: ``Digits(individual_digits)`` then
    ``ByteLevel``) isolates every ``\\p{N}`` character, then applies GPT-2's
    ``'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+``; ``"gpt2"`` applies
    only the latter. Written for ``re``: ``\\p{L}`` and ``\\p{N}`` are spelled out from ``unicodedata``
    (Python's Unicode version, which may differ from the reference's tables for recently assigned characters),
    ``\\s`` as the White_Space list; otherwise the same regex. The trailing ``|\\s+`` (HF's pattern; llama.cpp's
    list omits it but keeps unmatched text as its own piece) makes ``findall`` cover the whole text.
    """
    letters, numbers = _category_class("L"), _category_class("N")
    gpt2 = re.compile(f"'s|'t|'re|'ve|'m|'ll|'d| ?[{letters}]+| ?[{numbers}]+| ?[^{_SPACE}{letters}{numbers}]+"
                      f"|[{_SPACE}]+(?![^{_SPACE}])|[{_SPACE}]+")
    if pre == "smollm":
        return re.compile(f"[{numbers}]|[^{numbers}]+"), gpt2
    if pre == "gpt2":
        return (gpt2,)
    raise ValueError(f"tokenizer.ggml.pre must be 'smollm' or 'gpt2', got {pre!r}")


@dataclass(frozen=True, eq=False)
class Tokenizer:
    """GPT-2 byte-level BPE from GGUF metadata (``tokenizer.ggml.*``).

    ``tokens`` in id order (byte-level strings), ``token_types`` (1 normal, 3 control, 4 user-defined), ``merges``
    as ``"left right"`` strings in rank order, ``pre`` the pre-tokenizer name, ``bos_id`` / ``eos_id``.
    """

    tokens: list[str]
    token_types: list[int]
    merges: list[str]
    pre: str
    bos_id: int
    eos_id: int
    _cache: dict[str, list[int]] = field(default_factory=dict, init=False, repr=False)

    @cached_property
    def ids(self) -> dict[str, int]:
        return {t: i for i, t in enumerate(self.tokens)}

    @cached_property
    def ranks(self) -> dict[tuple[str, str], int]:
        return {tuple(m.split(" ", 1)): r for r, m in enumerate(self.merges)}

    @cached_property
    def specials(self) -> re.Pattern | None:
        """Control and user-defined token texts, longest first, as one alternation."""
        texts = sorted((t for t, k in zip(self.tokens, self.token_types, strict=True) if k in (3, 4)), key=len,
                       reverse=True)
        return re.compile("|".join(map(re.escape, texts))) if texts else None

    def bpe(self, word: str) -> list[int]:
        """BPE of one pre-token (bytes already mapped by :func:`bytes_to_unicode`): repeatedly merge the adjacent
        pair of lowest merge rank (leftmost first among equal pairs) until no pair has a rank."""
        if word in self._cache:
            return self._cache[word]
        parts = list(word)
        while len(parts) > 1:
            rank, i = min((self.ranks.get(pair, len(self.ranks)), i) for i, pair in enumerate(pairwise(parts)))
            if rank == len(self.ranks):
                break
            parts[i:i + 2] = [parts[i] + parts[i + 1]]
        ids = [self.ids[p] for p in parts]
        self._cache[word] = ids
        return ids

    def encode(self, text: str, special: bool = True) -> list[int]:
        """Token ids of ``text``; no BOS is added (``tokenizer.ggml.add_bos_token`` is false for SmolLM2).

        With ``special``, control-token texts in ``text`` (``<|im_start|>`` ...) become their ids, as llama.cpp
        does with ``parse_special``; the rest is pre-tokenized, byte-mapped and BPE-merged.
        """
        if special and self.specials is not None:
            out, pos = [], 0
            for match in self.specials.finditer(text):
                out += self.encode(text[pos:match.start()], special=False) + [self.ids[match.group()]]
                pos = match.end()
            return out + self.encode(text[pos:], special=False)
        pieces = [text] if text else []
        for pattern in pre_tokenizer(self.pre):
            pieces = [p for piece in pieces for p in pattern.findall(piece)]
        to_char = bytes_to_unicode()
        return [i for p in pieces for i in self.bpe("".join(to_char[b] for b in p.encode("utf-8")))]

    def decode(self, ids: Sequence[int]) -> str:
        """Text of ``ids``: byte-level tokens back to bytes, control tokens as their text; invalid UTF-8 becomes
        U+FFFD."""
        to_byte = {c: b for b, c in bytes_to_unicode().items()}
        out = bytearray()
        for i in ids:
            token = self.tokens[i]
            if self.token_types[i] in (3, 4):
                out += token.encode("utf-8")
            else:
                out += bytes(to_byte[c] for c in token)
        return out.decode("utf-8", errors="replace")
