"""Dossier status values (the one-stop systems' life cycle, in plain English identifiers)."""

from __future__ import annotations

from enum import Enum
from typing import Optional


class DossierStatus(str, Enum):
    RECEIVED = "received"  # tiếp nhận, chờ xử lý
    PROCESSING = "processing"  # đang giải quyết
    SUPPLEMENT_REQUESTED = "supplement_requested"  # yêu cầu bổ sung giấy tờ
    COMPLETED = "completed"  # có kết quả, chờ trả
    RETURNED = "returned"  # đã trả kết quả
    REJECTED = "rejected"  # từ chối giải quyết
    CANCELLED = "cancelled"  # đã hủy (rút hồ sơ)

    @classmethod
    def parse(cls, value: object) -> Optional["DossierStatus"]:
        """The status for a value such as ``"Processing"`` or ``" supplement-requested "``."""
        if isinstance(value, cls):
            return value
        if not isinstance(value, str):
            return None
        key = value.strip().lower().replace("-", "_").replace(" ", "_")
        try:
            return cls(key)
        except ValueError:
            return None

    @property
    def is_open(self) -> bool:
        """Still with the agency and counted against the appointment date."""
        return self in (DossierStatus.RECEIVED, DossierStatus.PROCESSING)


STATUS_VALUES = tuple(status.value for status in DossierStatus)
