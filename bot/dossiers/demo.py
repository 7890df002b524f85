"""A realistic demo set of dossiers (fixed seed): ``bot dossiers demo``.

Dates are relative to the day the demo is loaded, so statuses and appointment dates make sense
whenever it runs; everything else (codes' sequence numbers, names, phone numbers) comes from the seed.
Loading the same day twice changes nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Dict, List, Optional, Tuple
from zoneinfo import ZoneInfo

from bot.dossiers.records import DossierRecord
from bot.dossiers.repository import UpsertReport
from bot.dossiers.status import DossierStatus

DEFAULT_SEED = 20261118
DEFAULT_COUNT = 300

# (procedure code, name, working days to process, where it is handled)
PROCEDURES = (
    ("1.001193", "Thủ tục đăng ký khai sinh", 1, "commune"),
    ("1.000894", "Thủ tục đăng ký kết hôn", 3, "commune"),
    ("1.000656", "Thủ tục đăng ký khai tử", 1, "commune"),
    ("1.004873", "Thủ tục cấp Giấy xác nhận tình trạng hôn nhân", 3, "commune"),
    ("1.001612", "Đăng ký thành lập hộ kinh doanh", 3, "commune"),
    ("1.004222", "Đăng ký thường trú", 7, "police"),
    ("1.001456", "Cấp hộ chiếu phổ thông ở trong nước (thực hiện tại cấp tỉnh)", 8, "province_police"),
)
# (agency code used in dossier codes, agency name, kind)
AGENCIES = (
    ("000.21.22.H39", "UBND phường Hồng Châu", "commune"),
    ("000.22.22.H39", "UBND xã Tiên Lữ", "commune"),
    ("000.23.22.H39", "UBND xã Phù Cừ", "commune"),
    ("000.31.22.H39", "Công an phường Hồng Châu", "police"),
    ("000.32.22.H39", "Công an xã Tiên Lữ", "police"),
    ("000.00.15.H39", "Phòng Quản lý xuất nhập cảnh - Công an tỉnh", "province_police"),
)
SUPPLEMENT_NOTES = {
    "commune": (
        "Bổ sung bản chính giấy chứng sinh; bản sao giấy chứng nhận kết hôn của cha mẹ.",
        "Bổ sung tờ khai có chữ ký của người yêu cầu; giấy tờ chứng minh nơi cư trú.",
    ),
    "police": (
        "Bổ sung văn bản đồng ý cho đăng ký thường trú của chủ hộ; giấy tờ chứng minh chỗ ở hợp pháp.",
    ),
    "province_police": ("Bổ sung ảnh chân dung nền trắng cỡ 4x6 cm chụp không quá 6 tháng.",),
}
REJECT_NOTES = (
    "Hồ sơ không thuộc thẩm quyền giải quyết của cơ quan; đề nghị nộp tại cơ quan có thẩm quyền.",
    "Người yêu cầu không bổ sung giấy tờ trong thời hạn quy định.",
)
CANCEL_NOTES = ("Công dân rút hồ sơ theo đơn đề nghị.",)
FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi",
          "Đỗ", "Hồ", "Ngô", "Dương", "Lý")
MIDDLE = ("Văn", "Thị", "Hữu", "Minh", "Ngọc", "Thanh", "Đức", "Quốc", "Thu", "Hoài", "Gia")
GIVEN = ("An", "Bình", "Châu", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hòa", "Hùng", "Lan", "Linh",
         "Long", "Mai", "Nam", "Ngân", "Phúc", "Quân", "Tâm", "Thảo", "Trang", "Tú", "Vy", "Yến")
MOBILE_PREFIXES = ("090", "091", "093", "094", "096", "097", "098", "032", "033", "034", "035",
                   "036", "037", "038", "039", "070", "076", "077", "078", "079", "081", "083",
                   "084", "085", "086", "088", "089")
# Final status mix (weights), then the stages each dossier went through.
STATUS_WEIGHTS = (
    (DossierStatus.RECEIVED, 10),
    (DossierStatus.PROCESSING, 30),
    (DossierStatus.SUPPLEMENT_REQUESTED, 10),
    (DossierStatus.COMPLETED, 15),
    (DossierStatus.RETURNED, 25),
    (DossierStatus.REJECTED, 5),
    (DossierStatus.CANCELLED, 5),
)


@dataclass
class DemoResult:
    report: UpsertReport = field(default_factory=UpsertReport)
    # A code and the last 4 digits of its phone, per status (plus "processing_overdue").
    samples: Dict[str, Tuple[str, str]] = field(default_factory=dict)
    count: int = 0


def add_working_days(start: date, days: int) -> date:
    current = start
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def _name(rng: random.Random) -> str:
    return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


def _phone(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**7):07d}"


def generate(count: int = DEFAULT_COUNT, seed: int = DEFAULT_SEED, today: Optional[date] = None,
             tz: ZoneInfo = ZoneInfo("Asia/Ho_Chi_Minh")) -> List[List[DossierRecord]]:
    """The dossiers' successive versions: stage lists to upsert in order (history builds up)."""
    rng = random.Random(seed)
    today = today or datetime.now(tz).date()
    now = datetime.combine(today, time(8, 0), tzinfo=tz)
    sequences: Dict[Tuple[str, date], int] = {}
    statuses = [s for s, _ in STATUS_WEIGHTS]
    weights = [w for _, w in STATUS_WEIGHTS]
    stages: List[List[DossierRecord]] = [[], [], []]
    for index in range(count):
        # The first dossiers cover every status once, so each answer can be tried.
        final = statuses[index] if index < len(statuses) else rng.choices(statuses, weights)[0]
        procedure_code, procedure_name, days, kind = rng.choice(PROCEDURES)
        agency_code, agency, _ = rng.choice([a for a in AGENCIES if a[2] == kind])
        age = rng.randint(0, 2) if final == DossierStatus.RECEIVED else rng.randint(1, 40)
        submitted_day = today - timedelta(days=age)
        if submitted_day.weekday() >= 5:
            submitted_day -= timedelta(days=submitted_day.weekday() - 4)
        submitted = datetime.combine(
            submitted_day, time(rng.randint(7, 16), rng.choice((0, 15, 30, 45))), tzinfo=tz
        )
        if submitted > now:
            submitted = now - timedelta(hours=1)
        # A few open dossiers are late: their appointment date has passed.
        late = final == DossierStatus.PROCESSING and (index == 1 or rng.random() < 0.25)
        due_day = add_working_days(submitted_day, days)
        if late and due_day >= today:
            due_day = today - timedelta(days=rng.randint(1, 5))
            submitted = min(submitted, datetime.combine(due_day, time(7, 30), tzinfo=tz)
                            - timedelta(days=days + 1))
        due = datetime.combine(due_day, time(17, 0), tzinfo=tz)
        key = (agency_code, submitted.date())
        sequences[key] = sequences.get(key, 0) + 1
        code = f"{agency_code}-{submitted:%y%m%d}-{sequences[key]:04d}"
        base = dict(
            code=code,
            procedure_code=procedure_code,
            procedure_name=procedure_name,
            applicant_name=_name(rng),
            applicant_phone=_phone(rng),
            agency=agency,
            submitted_at=submitted.astimezone(timezone.utc),
            due_at=due.astimezone(timezone.utc),
        )
        span = max(now - submitted, timedelta(minutes=10))
        t1 = submitted + min(span / 4, timedelta(hours=2))
        t2 = submitted + span * rng.uniform(0.5, 0.95)
        stages[0].append(DossierRecord(status=DossierStatus.RECEIVED, updated_at=base["submitted_at"],
                                       note="", **base))
        if final == DossierStatus.RECEIVED:
            continue
        stages[1].append(DossierRecord(status=DossierStatus.PROCESSING,
                                       updated_at=t1.astimezone(timezone.utc), note="", **base))
        if final == DossierStatus.PROCESSING:
            continue
        note = ""
        if final == DossierStatus.SUPPLEMENT_REQUESTED:
            note = rng.choice(SUPPLEMENT_NOTES[kind])
        elif final == DossierStatus.REJECTED:
            note = rng.choice(REJECT_NOTES)
        elif final == DossierStatus.CANCELLED:
            note = rng.choice(CANCEL_NOTES)
        stages[2].append(DossierRecord(status=final, updated_at=t2.astimezone(timezone.utc),
                                       note=note, **base))
    return stages


async def load_demo(service, count: int = DEFAULT_COUNT, seed: int = DEFAULT_SEED,
                    today: Optional[date] = None) -> DemoResult:
    """Load the demo set through the service and pick one code per status to try."""
    result = DemoResult()
    today = today or service.clock().astimezone(service.tz).date()
    stages = generate(count, seed, today, service.tz)
    latest: Dict[str, DossierRecord] = {}
    for stage in stages:
        for start in range(0, len(stage), 1000):
            result.report.add(await service.upsert(stage[start : start + 1000], "demo"))
        for record in stage:
            latest[record.code] = record
    result.count = len(latest)
    now = service.clock()
    for record in latest.values():
        key = record.status.value
        if record.status == DossierStatus.PROCESSING and record.due_at and record.due_at < now:
            key = "processing_overdue"
        result.samples.setdefault(key, (record.code, record.applicant_phone[-4:]))
    return result
