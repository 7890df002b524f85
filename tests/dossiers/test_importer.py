"""CSV import: upsert by code, history of status changes, bad rows reported by line."""

import pytest

from bot.dossiers.errors import InvalidFile
from bot.dossiers.importer import import_csv, import_text
from bot.dossiers.status import DossierStatus
from tests.dossiers.conftest import csv_text, row

CODE = "000.00.22.H39-261118-0007"
OTHER = "000.00.22.H39-261118-0008"


async def test_imports_good_rows_and_reports_bad_ones_by_line(service):
    text = csv_text(
        row(),                                            # line 2
        row(code="000.00.22.H39-26111-0001"),             # line 3: bad code
        row(code=OTHER, status="finished"),               # line 4: bad status
        "",                                               # line 5: blank, skipped
        row(code="G22.39-250301-0012", phone="12"),       # line 6: bad phone
        row(code="g22.39-250301-0013", updated="19/11/2026"),  # line 7: bad time
        "000.00.22.H39-261118-0009,1.001193,too,few",     # line 8: field count
        row(code=OTHER, status="received"),               # line 9: good
    )
    result = await import_text(service, text)
    assert result.rows == 7
    assert result.accepted == 2
    assert [(e.line, e.field) for e in result.errors] == [
        (3, "code"), (4, "status"), (6, "applicant_phone"), (7, "updated_at"), (8, "row"),
    ]
    assert "received, processing" in result.errors[1].reason  # lists the allowed values
    assert result.report.created == 2
    history = await service.history(CODE)
    assert [(h.previous_status, h.status) for h in history] == [(None, DossierStatus.PROCESSING)]


async def test_reimport_is_idempotent_and_changes_are_recorded(service):
    first = csv_text(row(status="received", updated="2026-11-18T08:30:00"))
    assert (await import_text(service, first)).report.created == 1
    again = await import_text(service, first)
    assert again.report.as_dict() == {"created": 0, "updated": 0, "unchanged": 1, "stale": 0,
                                      "status_changes": 0}

    later = csv_text(row(status="supplement_requested", updated="2026-11-19T10:00:00",
                         note="Bổ sung giấy chứng sinh, bản chính"))
    result = await import_text(service, later)
    assert result.report.updated == 1 and result.report.status_changes == 1

    # An older version arriving late changes nothing.
    stale = await import_text(service, csv_text(row(status="processing",
                                                    updated="2026-11-18T09:00:00")))
    assert stale.report.stale == 1

    # Same status, new note: updated, but no status change in the history.
    note = await import_text(service, csv_text(row(status="supplement_requested",
                                                   updated="2026-11-19T11:00:00",
                                                   note="Bổ sung giấy chứng sinh")))
    assert note.report.updated == 1 and note.report.status_changes == 0

    history = await service.history(CODE)
    assert [h.status for h in history] == [DossierStatus.RECEIVED,
                                           DossierStatus.SUPPLEMENT_REQUESTED]
    assert history[1].previous_status is DossierStatus.RECEIVED
    assert history[1].note == "Bổ sung giấy chứng sinh, bản chính"
    assert history[1].source == "csv"


async def test_several_versions_of_a_dossier_in_one_file(service):
    text = csv_text(
        row(status="received", updated="2026-11-18T08:30:00"),
        row(status="processing", updated="2026-11-18T10:00:00"),
        row(status="completed", updated="2026-11-20T08:00:00"),
    )
    result = await import_text(service, text, batch_size=2)  # across two batches too
    assert result.report.created == 1
    history = await service.history(CODE)
    assert [h.status.value for h in history] == ["received", "processing", "completed"]


async def test_header_problems_stop_the_import(service):
    with pytest.raises(InvalidFile, match="missing column"):
        await import_text(service, "code,status\nX,received\n")
    with pytest.raises(InvalidFile, match="empty"):
        await import_text(service, "")


async def test_extra_columns_are_ignored_and_reported(service):
    text = csv_text(row()).replace("note\n", "note,source_system\n", 1).replace('""\n', '"",ABC\n')
    result = await import_text(service, text)
    assert result.ignored_columns == ["source_system"]
    assert result.accepted == 1 and not result.errors


async def test_import_file_with_bom_and_crlf(service, tmp_path):
    path = tmp_path / "dossiers.csv"
    path.write_bytes(("\ufeff" + csv_text(row(), row(code=OTHER))).replace("\n", "\r\n")
                     .encode("utf-8"))
    result = await import_csv(service, path)
    assert result.accepted == 2 and not result.errors


async def test_a_file_that_is_not_utf8_is_refused(service, tmp_path):
    path = tmp_path / "legacy.csv"
    path.write_bytes(csv_text(row()).encode("utf-16"))
    with pytest.raises(InvalidFile, match="UTF-8"):
        await import_csv(service, path)
    with pytest.raises(InvalidFile, match="cannot open"):
        await import_csv(service, tmp_path / "missing.csv")


async def test_quoted_multiline_note(service):
    text = csv_text(row(status="supplement_requested",
                        note="Bổ sung:\n- giấy chứng sinh\n- CCCD của cha, mẹ"))
    result = await import_text(service, text)
    assert result.accepted == 1
    async with service.engine.connect() as conn:
        from bot.dossiers.repository import get_dossier

        dossier = await get_dossier(conn, CODE)
    assert dossier.note.splitlines() == ["Bổ sung:", "- giấy chứng sinh", "- CCCD của cha, mẹ"]
