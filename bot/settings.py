"""Configuration read from the environment (12-factor); defaults run with no external service."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# National one-stop format: <agency code>-<yymmdd>-<4-digit sequence>, e.g. 000.00.22.H39-261118-0007.
DEFAULT_DOSSIER_CODE_PATTERN = r"[A-Z0-9]{1,6}(?:\.[A-Z0-9]{1,6}){1,5}-\d{6}-\d{4}"
# Official procedure code, e.g. 1.001193 or a local variant 1.012753.H19.
DEFAULT_PROCEDURE_CODE_PATTERN = r"[1-3]\.\d{6}(?:\.[A-Z0-9]{2,6})?"


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def default_database_url() -> str:
    return f"sqlite+aiosqlite:///{PROJECT_ROOT / 'var' / 'bot.db'}"


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=lambda: _env("DATABASE_URL", default_database_url()))
    redis_url: str = field(default_factory=lambda: _env("REDIS_URL", ""))
    dossier_code_pattern: str = field(
        default_factory=lambda: _env("DOSSIER_CODE_PATTERN", DEFAULT_DOSSIER_CODE_PATTERN)
    )
    procedure_code_pattern: str = field(
        default_factory=lambda: _env("PROCEDURE_CODE_PATTERN", DEFAULT_PROCEDURE_CODE_PATTERN)
    )
    # How often (seconds) a running action server checks whether the catalogue was re-imported.
    catalogue_refresh_seconds: float = field(
        default_factory=lambda: float(_env("CATALOGUE_REFRESH_SECONDS", "30"))
    )
    # Human hand-off contact, shown to users who ask for a person.
    hotline: str = field(default_factory=lambda: _env("BOT_HOTLINE", "1900 1234"))
    office_address: str = field(
        default_factory=lambda: _env(
            "BOT_OFFICE_ADDRESS", "Bộ phận Một cửa, Trung tâm Phục vụ hành chính công tỉnh"
        )
    )
    office_hours: str = field(
        default_factory=lambda: _env(
            "BOT_OFFICE_HOURS", "Sáng 7:30–11:30, chiều 13:30–17:00, thứ Hai đến thứ Sáu"
        )
    )
    portal_url: str = field(
        default_factory=lambda: _env("BOT_PORTAL_URL", "https://dichvucong.gov.vn")
    )
    # Bearer token the one-stop system uses to push dossiers (empty disables the endpoint).
    dossier_sync_token: str = field(default_factory=lambda: _env("DOSSIER_SYNC_TOKEN", ""))
    # Failed verifications allowed per conversation and per dossier code within the window.
    verify_max_failures: int = field(
        default_factory=lambda: int(_env("VERIFY_MAX_FAILURES", "5"))
    )
    verify_window_seconds: int = field(
        default_factory=lambda: int(_env("VERIFY_WINDOW_SECONDS", "3600"))
    )
    timezone: str = field(default_factory=lambda: _env("BOT_TIMEZONE", "Asia/Ho_Chi_Minh"))


def get_settings() -> Settings:
    """Read the settings now (cheap; call at start-up, not at import time)."""
    return Settings()
