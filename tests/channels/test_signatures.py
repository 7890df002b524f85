"""Webhook signatures and freshness."""

import hashlib
import hmac
import time

from bot.channels.signatures import (
    hub_signature_256,
    is_fresh,
    verify_hub_signature_256,
    verify_zalo_signature,
    zalo_signature,
)

BODY = '{"app_id":"42","event_name":"user_send_text","timestamp":"1700000000000","message":{"text":"xin chào"}}'.encode()


def test_zalo_signature_is_sha256_of_app_id_body_timestamp_and_oa_key():
    expected = hashlib.sha256(b"42" + BODY + b"1700000000000" + b"oa-key").hexdigest()
    assert zalo_signature("42", BODY, "1700000000000", "oa-key") == "mac=" + expected


def test_zalo_signature_checks():
    header = zalo_signature("42", BODY, "1700000000000", "oa-key")
    assert verify_zalo_signature(header, "42", BODY, "1700000000000", "oa-key")
    assert verify_zalo_signature(" " + header.upper().replace("MAC=", "mac=") + " ", "42", BODY,
                                 "1700000000000", "oa-key")
    assert not verify_zalo_signature(header, "42", BODY + b" ", "1700000000000", "oa-key")
    assert not verify_zalo_signature(header, "42", BODY, "1700000000001", "oa-key")
    assert not verify_zalo_signature(header, "43", BODY, "1700000000000", "oa-key")
    assert not verify_zalo_signature(header, "42", BODY, "1700000000000", "other-key")
    assert not verify_zalo_signature(header[4:], "42", BODY, "1700000000000", "oa-key")  # no "mac="
    assert not verify_zalo_signature(None, "42", BODY, "1700000000000", "oa-key")
    assert not verify_zalo_signature("", "42", BODY, "1700000000000", "oa-key")
    assert not verify_zalo_signature(header, "42", BODY, "1700000000000", "")  # no key configured


def test_hub_signature_256():
    expected = "sha256=" + hmac.new(b"app-secret", BODY, hashlib.sha256).hexdigest()
    assert hub_signature_256("app-secret", BODY) == expected
    assert verify_hub_signature_256(expected, "app-secret", BODY)
    assert not verify_hub_signature_256(expected, "app-secret", BODY[:-1])
    assert not verify_hub_signature_256(expected, "other", BODY)
    sha1 = "sha1=" + hmac.new(b"app-secret", BODY, hashlib.sha1).hexdigest()
    assert not verify_hub_signature_256(sha1, "app-secret", BODY)
    assert not verify_hub_signature_256(None, "app-secret", BODY)
    assert not verify_hub_signature_256(expected, "", BODY)


def test_freshness():
    now = 1_700_000_000.0
    assert is_fresh("1700000000000", 300, now=now)
    assert is_fresh(str(int((now - 299) * 1000)), 300, now=now)
    assert not is_fresh(str(int((now - 301) * 1000)), 300, now=now)
    assert is_fresh(str(int((now + 30) * 1000)), 300, now=now)
    assert not is_fresh(str(int((now + 120) * 1000)), 300, now=now)
    for bad in (None, "", "abc", "nan", [], {}):
        assert not is_fresh(bad, 300, now=now)
    assert is_fresh(int(time.time() * 1000), 300)
