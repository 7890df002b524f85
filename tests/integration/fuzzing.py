"""Random and hostile input, reproducible from a seed."""

from __future__ import annotations

import json
import random
import string
from typing import List, Optional, Tuple

VIETNAMESE = ("đăng ký khai sinh cho con", "làm hộ chiếu mất bao lâu", "lệ phí cấp căn cước", "tra cứu hồ sơ",
              "nộp ở đâu", "cần giấy tờ gì", "xin chào", "gặp cán bộ", "sổ đỏ", "bằng lái xe", "cảm ơn")
INJECTIONS = (
    "'; DROP TABLE events; --", "\" OR 1=1 --", "1; SELECT pg_sleep(10); --", "' UNION SELECT * FROM users --",
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "javascript:alert(1)", "{{7*7}}", "${7*7}",
    "{procedure_name}{contact_hotline}", "%s%s%s%n", "../../../../etc/passwd", "/restart", "/session_start",
    '/check_dossier{"dossier_code": "000.00.04.H51-200221-0001"}', "/ask_fee{\"procedure_code\": \"1.000894\"}",
    "/nlu_fallback", "\\u0000", "\u202etxet desrever", "\ufeffBOM", "A" * 300 + "\u0301" * 300,
)
CONTROL = "".join(chr(c) for c in range(32)) + "\x7f\u0085\u2028\u2029\u200b\u200d\ufffe"


def dossier_like(rng: random.Random) -> str:
    agency = ".".join(rng.choice(["000", "00", "H51", "G22", "X", "9" * rng.randint(1, 9)])
                      for _ in range(rng.randint(1, 7)))
    date = "".join(rng.choice(string.digits) for _ in range(rng.choice([5, 6, 7])))
    seq = "".join(rng.choice(string.digits) for _ in range(rng.choice([3, 4, 5])))
    sep = rng.choice(["-", " - ", "–", "_", ""])
    code = f"{agency}{sep}{date}{sep}{seq}"
    return rng.choice([code, code.lower(), f"mã hồ sơ {code}", f"{code} 4 số cuối {seq}", code * 3])


def hostile_text(rng: random.Random, big: bool = False) -> str:
    kind = rng.randrange(10)
    if big:
        unit = rng.choice(VIETNAMESE) + " "
        return (unit * (100_000 // len(unit) + 1))[:100_000]
    if kind == 0:
        return rng.choice(["", " ", "\n", "\t\t", "   \u3000 "])
    if kind == 1:
        return "".join(rng.choice(CONTROL) for _ in range(rng.randint(1, 40)))
    if kind == 2:
        return rng.choice(INJECTIONS)
    if kind == 3:
        return dossier_like(rng)
    if kind == 4:
        return "".join(chr(rng.randint(0x20, 0x2FFFF)) for _ in range(rng.randint(1, 80)))
    if kind == 5:
        return "".join(rng.choice("😀🙏🇻🇳👍🏽‍🔥") for _ in range(rng.randint(1, 50)))
    if kind == 6:
        return rng.choice(VIETNAMESE) + " " + rng.choice(INJECTIONS)
    if kind == 7:
        return "".join(rng.choice(string.printable) for _ in range(rng.randint(1, 3000)))
    if kind == 8:
        return rng.choice(VIETNAMESE).upper() + "?" * rng.randint(0, 20)
    return rng.choice(VIETNAMESE)


def rest_body(rng: random.Random, senders: List[str], big: bool = False) -> Tuple[bytes, Optional[str]]:
    """A REST webhook body (bytes) and, when it is a regular message, its sender."""
    kind = rng.randrange(20)
    sender = rng.choice(senders)
    if kind == 0:  # invalid UTF-8
        return b'{"sender": "' + sender.encode() + b'", "message": "\xff\xfe\xc3\x28 ' + bytes([rng.randrange(128, 256)]) + b'"}', None
    if kind == 1:  # not JSON at all / truncated JSON / wrong shapes
        return rng.choice([b"", b"{", b"null", b"[]", b'"text"', b"12", b"{\"sender\": ", b"\x00\x01\x02",
                           b"[" * 5000 + b"]" * 5000, b'{"a":' * 2000 + b"1" + b"}" * 2000]), None
    if kind == 2:  # odd types
        return json.dumps({"sender": rng.choice([123, None, [], {"a": 1}, True, "x" * 10_000, "a\u0000b",
                                                 "\ud800", "'; DROP TABLE events; --"]),
                           "message": rng.choice([123, None, [], {"text": "hi"}, True, 1.5])}).encode(), None
    if kind == 3:  # extra and missing fields
        return json.dumps(rng.choice([{"message": "xin chào"}, {"sender": sender}, {},
                                      {"sender": sender, "message": "hi", "metadata": {"x": "y" * 1000}},
                                      {"sender": sender, "message": "hi", "input_channel": "zalo"}])).encode(), None
    text = hostile_text(rng, big=big)
    ascii_only = rng.random() < 0.5
    body = json.dumps({"sender": sender, "message": text}, ensure_ascii=ascii_only)
    # A lone surrogate written raw is invalid UTF-8 on the wire: fine, that is hostile input too.
    return body.encode("utf-8", "surrogatepass"), sender
