from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.dossiers.codes import codes_for
from bot.dossiers.errors import InvalidRecord
from bot.dossiers.records import normalise_phone, parse_record, parse_time
from bot.dossiers.status import DossierStatus
from bot.settings import DEFAULT_DOSSIER_CODE_PATTERN

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
CODES = codes_for(DEFAULT_DOSSIER_CODE_PATTERN)


def utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2026-11-18T08:30:00", utc(2026, 11, 18, 1, 30)),  # naive = Hà Nội time
        ("2026-11-18 08:30", utc(2026, 11, 18, 1, 30)),
        ("2026-11-18T08:30:00+07:00", utc(2026, 11, 18, 1, 30)),
        ("2026-11-18T01:30:00Z", utc(2026, 11, 18, 1, 30)),
        ("2026-11-18T03:30:00+0200", utc(2026, 11, 18, 1, 30)),
        ("2026-11-18T08:30:00.250", utc(2026, 11, 18, 1, 30, 0, 250000)),
        ("2026-11-18", utc(2026, 11, 17, 17, 0)),  # local midnight
    ],
)
def test_parse_time(value, expected):
    assert parse_time(value, TZ) == expected
    assert parse_time(value, TZ).tzinfo == timezone.utc


def test_a_due_date_alone_means_the_end_of_that_day():
    assert parse_time("2026-11-25", TZ, end_of_day=True) == utc(2026, 11, 25, 16, 59, 59)


@pytest.mark.parametrize("value", ["18/11/2026", "2026-13-01T00:00", "tomorrow", "2026-11-18T25:00"])
def test_parse_time_rejects(value):
    with pytest.raises(ValueError):
        parse_time(value, TZ)


@pytest.mark.parametrize(
    "value, expected",
    [("0912 345 678", "0912345678"), ("+84 912.345.678", "0912345678"),
     ("84912345678", "0912345678"), ("(024) 3825-1234", "02438251234")],
)
def test_normalise_phone(value, expected):
    assert normalise_phone(value) == expected


@pytest.mark.parametrize("value", ["12345", "09123abc78", "0912345678901234567", "٠٩١٢٣٤٥٦٧٨"])
def test_normalise_phone_rejects(value):
    with pytest.raises(ValueError):
        normalise_phone(value)


def raw(**changes):
    record = {
        "code": " 000.00.22.h39-261118-0007 ",
        "procedure_code": "1.001193",
        "procedure_name": "Thủ tục đăng ký khai sinh",
        "applicant_name": "Nguyễn Văn An",
        "applicant_phone": "0912 345 678",
        "agency": "UBND phường Hồng Châu",
        "status": "Processing",
        "submitted_at": "2026-11-18T08:30:00",
        "due_at": "2026-11-25",
        "updated_at": "2026-11-19T09:00:00+07:00",
        "note": None,
    }
    record.update(changes)
    return record


def test_parse_record_normalises():
    record = parse_record(raw(), CODES, TZ)
    assert record.code == "000.00.22.H39-261118-0007"
    assert record.status is DossierStatus.PROCESSING
    assert record.applicant_phone == "0912345678"
    assert record.due_at == utc(2026, 11, 25, 16, 59, 59)
    assert record.note == ""


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"code": "000.00.22.H39-26111-0007"}, "code"),
        ({"code": ""}, "code"),
        ({"status": "done"}, "status"),
        ({"applicant_phone": "12"}, "applicant_phone"),
        ({"applicant_name": "  "}, "applicant_name"),
        ({"submitted_at": "18/11/2026"}, "submitted_at"),
        ({"due_at": "soon"}, "due_at"),
        ({"updated_at": "2026-11-01T00:00:00"}, "updated_at"),  # before submission
        ({"note": "x" * 5000}, "note"),
        ({"agency": 12}, "agency"),
    ],
)
def test_parse_record_rejects_with_the_field(changes, field):
    with pytest.raises(InvalidRecord) as error:
        parse_record(raw(**changes), CODES, TZ)
    assert error.value.field == field


def test_parse_record_needs_an_object():
    with pytest.raises(InvalidRecord):
        parse_record(["not", "an", "object"], CODES, TZ)


def test_status_parse():
    assert DossierStatus.parse("Supplement-Requested") is DossierStatus.SUPPLEMENT_REQUESTED
    assert DossierStatus.parse("xong") is None
    assert DossierStatus.RECEIVED.is_open and not DossierStatus.COMPLETED.is_open
