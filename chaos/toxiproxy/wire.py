"""Answers written the way the Go server writes them, byte for byte.

What a client, a script or a diff can see of Toxiproxy 2.x's answers:

- success bodies are Go's ``json.Marshal``: compact, no trailing newline,
  ``<``, ``>``, ``&``, U+2028 and U+2029 escaped, non-ASCII left as UTF-8,
  struct fields in declaration order, map keys sorted;
- toxicity is a Go ``float32``, so it prints as the shortest text that reads back
  as the same float32 (``1``, ``0.5``, ``0.1``), never ``1.0``;
- errors go through Go's ``http.Error``: ``text/plain; charset=utf-8``,
  ``X-Content-Type-Options: nosniff``, the JSON body and a newline;
- each routed answer carries ``X-Toxiproxy-Request-Id``, an xid as zerolog's
  ``hlog.RequestIDHandler`` makes one.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import random
import re
import socket
import struct
import time
from typing import Any

JSON_CONTENT_TYPE = "application/json"
ERROR_CONTENT_TYPE = "text/plain; charset=utf-8"
REQUEST_ID_HEADER = "X-Toxiproxy-Request-Id"

_HTML_UNSAFE = re.compile("[<>&\u2028\u2029]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_F32_SMALL = struct.unpack("<f", struct.pack("<f", 1e-6))[0]
_F32_LARGE = struct.unpack("<f", struct.pack("<f", 1e21))[0]


class Float32(float):
    """A number Go holds as ``float32`` (toxicity): stored rounded, printed as Go prints it."""

    __slots__ = ()

    def __new__(cls, value: float) -> Float32:
        """Raises ``OverflowError`` when ``value`` does not fit in a float32, as Go's decoder refuses it."""
        try:
            number = float(value)
            if not math.isfinite(number):
                raise OverflowError
            return super().__new__(cls, struct.unpack("<f", struct.pack("<f", number))[0])
        except (OverflowError, struct.error):
            raise OverflowError(f"{value} does not fit in a float32") from None


def encode(value: Any) -> bytes:
    """``value`` as Go's ``json.Marshal`` would write it (dicts keep their order: callers sort maps)."""
    return _encode(value).encode("utf-8")


def _encode(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, Float32):
        return format_float32(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float64(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{_string(str(key))}:{_encode(item)}" for key, item in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_encode(item) for item in value) + "]"
    raise TypeError(f"cannot encode {type(value).__name__}")


def _string(text: str) -> str:
    """Go escapes HTML characters and line separators, and writes invalid UTF-16 halves as U+FFFD."""
    encoded = json.dumps(_SURROGATE.sub("\ufffd", text), ensure_ascii=False)
    return _HTML_UNSAFE.sub(lambda match: f"\\u{ord(match.group()):04x}", encoded)


def format_float32(value: float) -> str:
    """Go's float32 encoding: shortest round-trip digits, exponent form below 1e-6 or from 1e21."""
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    target = struct.pack("<f", value)
    for digits in range(1, 10):
        if struct.pack("<f", float(f"{value:.{digits - 1}e}")) == target:
            break
    magnitude = abs(value)
    return _go_float_text(f"{value:.{digits - 1}e}", exponent=not _F32_SMALL <= magnitude < _F32_LARGE)


def _float64(value: float) -> str:
    if not math.isfinite(value):
        raise ValueError(f"unsupported value: {value}")  # Go's json.Marshal refuses NaN and Inf
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    digits = next(d for d in range(1, 18) if float(f"{value:.{d - 1}e}") == value)
    return _go_float_text(f"{value:.{digits - 1}e}", exponent=not 1e-6 <= abs(value) < 1e21)


def _go_float_text(scientific: str, *, exponent: bool) -> str:
    """``strconv.FormatFloat(v, 'f' or 'e', -1, bits)`` from Python's ``d.ddde+XX``, with json's ``e-07`` -> ``e-7``."""
    mantissa, _, exp_text = scientific.partition("e")
    sign = "-" if mantissa.startswith("-") else ""
    digits = mantissa.lstrip("-").replace(".", "").rstrip("0") or "0"
    power = int(exp_text)
    if exponent:
        tail = "." + digits[1:] if len(digits) > 1 else ""
        exp = f"e-{-power}" if power < 0 else f"e+{power:02d}"  # Go pads to two digits; json trims "e-0N"
        return f"{sign}{digits[0]}{tail}{exp}"
    point = power + 1
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return f"{sign}{digits[:point]}.{digits[point:]}"


class RequestIds:
    """xids (github.com/rs/xid): 4 bytes of seconds, 3 of machine, 2 of pid, 3 of counter, base32hex."""

    _ALPHABET = "0123456789abcdefghijklmnopqrstuv"

    def __init__(self) -> None:
        self._machine = hashlib.md5(socket.gethostname().encode()).digest()[:3]
        self._pid = struct.pack(">H", os.getpid() & 0xFFFF)
        self._counter = itertools.count(random.SystemRandom().getrandbits(24))

    def next(self) -> str:
        raw = (struct.pack(">I", int(time.time()) & 0xFFFFFFFF) + self._machine + self._pid
               + (next(self._counter) & 0xFFFFFF).to_bytes(3, "big"))
        number = int.from_bytes(raw, "big") << 4  # 96 bits -> 100 bits: 20 groups of 5
        return "".join(self._ALPHABET[(number >> shift) & 31] for shift in range(95, -1, -5))
