"""Lookup: verification, what is shown, overdue, and the failed-verification limit."""

from dataclasses import asdict

import pytest

from bot.db import create_engine
from bot.dossiers.importer import import_text
from bot.dossiers.limiter import SqlFailureLimiter
from bot.dossiers.service import DossierService, mask_name
from tests.dossiers.conftest import csv_text, row

CODE = "000.00.22.H39-261118-0007"
OTHER = "000.00.22.H39-261118-0008"
DIGITS = "5678"  # phone 0912 345 678


async def load(service, *rows):
    result = await import_text(service, csv_text(*rows))
    assert not result.errors, result.errors


async def test_the_right_digits_show_the_status(service):
    await load(service, row())
    result = await service.lookup(f"hồ sơ {CODE.lower()} sao lâu vậy", DIGITS, "conv-1")
    assert result.state == "processing"
    assert result.code == CODE
    view = result.view
    assert view.procedure_name == "Thủ tục đăng ký khai sinh"
    assert view.agency == "UBND phường Hồng Châu"
    assert view.submitted == "18/11/2026"
    assert view.due == "25/11/2026"
    assert view.overdue is False


async def test_name_is_masked_and_the_phone_never_shown(service):
    await load(service, row(name="Trần Thị Bích Ngọc"))
    result = await service.lookup(CODE, DIGITS, "conv-1")
    assert result.view.applicant == "T*** T*** B*** N***"
    shown = repr(asdict(result.view))
    for secret in ("Trần", "Ngọc", "0912345678", "345678", "0912"):
        assert secret not in shown
    assert mask_name("") == "***"


async def test_unknown_code_and_wrong_digits_look_the_same(service):
    await load(service, row())
    wrong = await service.lookup(CODE, "0000", "conv-1")
    unknown = await service.lookup(OTHER, DIGITS, "conv-2")
    assert wrong.state == unknown.state == "not_found"
    assert wrong.view is None and unknown.view is None
    assert wrong.retry_after_seconds is None and unknown.retry_after_seconds is None


@pytest.mark.parametrize(
    "status, updated, due, overdue_days",
    [
        ("processing", "2026-11-19T09:00:00", "2026-11-17T17:00:00", 3),  # today is 20/11
        ("received", "2026-11-18T08:30:00", "2026-11-19", 1),
        ("processing", "2026-11-19T09:00:00", "2026-11-20", 0),  # due today: not late yet
        ("completed", "2026-11-19T09:00:00", "2026-11-17T17:00:00", 0),  # done: not overdue
        ("supplement_requested", "2026-11-19T09:00:00", "2026-11-17T17:00:00", 0),
    ],
)
async def test_overdue(service, status, updated, due, overdue_days):
    await load(service, row(status=status, updated=updated, due=due))
    view = (await service.lookup(CODE, DIGITS, "c")).view
    assert view.overdue is (overdue_days > 0)
    assert view.overdue_days == overdue_days


async def test_without_due_date(service):
    await load(service, row(due=""))
    view = (await service.lookup(CODE, DIGITS, "c")).view
    assert view.due is None and view.overdue is False


async def test_note_for_supplement(service):
    await load(service, row(status="supplement_requested", note="Bổ sung giấy chứng sinh."))
    result = await service.lookup(CODE, DIGITS, "c")
    assert result.state == "supplement_requested"
    assert result.view.note == "Bổ sung giấy chứng sinh."


@pytest.mark.parametrize("code, digits, state", [
    ("tra cứu hồ sơ", DIGITS, "invalid_code"),
    (None, DIGITS, "invalid_code"),
    (CODE, "567", "invalid_digits"),
    (CODE, "56789", "invalid_digits"),
    (CODE, None, "invalid_digits"),
    (CODE, "５６７８", "invalid_digits"),  # full-width digits are not accepted as is
])
async def test_invalid_input_is_not_a_failed_verification(service, code, digits, state):
    await load(service, row())
    for _ in range(10):
        assert (await service.lookup(code, digits, "c")).state == state
    assert (await service.lookup(CODE, DIGITS, "c")).state == "processing"


async def test_limit_per_dossier_code_across_conversations(service, clock):
    await load(service, row())
    for attempt in range(5):
        assert (await service.lookup(CODE, f"000{attempt}", f"attacker-{attempt}")).state == "not_found"
    locked = await service.lookup(CODE, DIGITS, "owner")  # the right digits, a fresh conversation
    assert locked.state == "locked" and locked.view is None
    assert 0 < locked.retry_after_seconds <= 3600


async def test_limit_per_conversation_across_codes(service, clock):
    await load(service, row(), row(code=OTHER))
    for sequence in range(5):
        code = f"000.00.22.H39-261118-{sequence + 100:04d}"  # guessing codes
        assert (await service.lookup(code, "1234", "guesser")).state == "not_found"
        clock.advance(minutes=1)
    assert (await service.lookup(CODE, DIGITS, "guesser")).state == "locked"
    assert (await service.lookup(CODE, DIGITS, "someone-else")).state == "processing"


async def test_locked_means_the_failed_attempts_are_not_even_checked(service):
    await load(service, row())
    for _ in range(5):
        await service.lookup(CODE, "0000", "c")
    for _ in range(3):  # more tries while locked do not extend the lock
        assert (await service.lookup(CODE, "0000", "c")).state == "locked"
    async with service.engine.connect() as conn:
        from sqlalchemy import func, select

        from bot.dossiers.tables import verification_failures

        count = (await conn.execute(select(func.count()).select_from(verification_failures))).scalar()
    assert count == 10  # 5 failures x 2 keys (conversation, code); no raw ids stored
    async with service.engine.connect() as conn:
        from sqlalchemy import text

        keys = [r[0] for r in await conn.execute(text("SELECT key_hash FROM verification_failures"))]
    assert all(len(key) == 64 and "c" != key and CODE not in key for key in keys)


async def test_limit_survives_a_restart_until_the_window_passes(db_url, settings, clock):
    """Done-when: after the limit, even the right digits are refused until the window passes,
    across a restart (a new service instance, new engine, on the same database)."""
    engine = create_engine(db_url)
    first = DossierService(engine, settings, SqlFailureLimiter(engine, 5, 3600, clock), clock)
    await load(first, row())
    for minute in range(5):
        assert (await first.lookup(CODE, "1111", "conv-a")).state == "not_found"
        clock.advance(minutes=1)
    assert (await first.lookup(CODE, DIGITS, "conv-a")).state == "locked"
    await first.close()
    await engine.dispose()  # the process stops

    engine = create_engine(db_url)  # a new process, or another replica
    try:
        second = DossierService(engine, settings, SqlFailureLimiter(engine, 5, 3600, clock), clock)
        refused = await second.lookup(CODE, DIGITS, "conv-a")
        assert refused.state == "locked" and refused.view is None
        assert (await second.lookup(CODE, DIGITS, "conv-b")).state == "locked"  # per code too
        # The first failure was at t0, the window is an hour: at t0+59:59 still locked ...
        clock.advance(minutes=54, seconds=59)
        assert (await second.lookup(CODE, DIGITS, "conv-b")).state == "locked"
        # ... and once it has left the window, 4 failures remain: the right digits work again.
        clock.advance(seconds=2)
        assert (await second.lookup(CODE, DIGITS, "conv-b")).state == "processing"
        await second.close()
    finally:
        await engine.dispose()


async def test_retry_after_counts_down(service, clock):
    await load(service, row())
    for _ in range(5):
        await service.lookup(CODE, "0000", "c")
    assert (await service.lookup(CODE, DIGITS, "c")).retry_after_seconds == 3600
    clock.advance(minutes=30)
    assert (await service.lookup(CODE, DIGITS, "c")).retry_after_seconds == 1800


async def test_configurable_limit(db_url, engine, clock):
    from tests.dossiers.conftest import make_settings

    settings = make_settings(db_url, verify_max_failures=2, verify_window_seconds=60)
    service = DossierService(engine, settings, SqlFailureLimiter(engine, 2, 60, clock), clock)
    await load(service, row())
    await service.lookup(CODE, "0000", "c")
    assert (await service.lookup(CODE, DIGITS, "c")).state == "processing"
    await service.lookup(CODE, "0000", "c")
    assert (await service.lookup(CODE, DIGITS, "c")).state == "locked"
    clock.advance(seconds=61)
    assert (await service.lookup(CODE, DIGITS, "c")).state == "processing"


async def test_build_dossier_service_uses_the_database_limiter(engine, settings):
    from bot.dossiers.service import build_dossier_service

    service = await build_dossier_service(engine, settings)
    assert isinstance(service.limiter, SqlFailureLimiter)
    assert service.limiter.max_failures == 5 and service.limiter.window_seconds == 3600
    await service.close()
