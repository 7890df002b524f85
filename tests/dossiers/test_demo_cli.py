"""The demo set and the ``bot dossiers`` commands."""

import argparse
from collections import Counter
from datetime import date

from bot.dossiers import cli
from bot.dossiers.demo import generate, load_demo
from bot.dossiers.status import DossierStatus
from tests.dossiers.conftest import csv_text, row

DAY = date(2026, 11, 20)


def test_demo_is_deterministic_and_covers_every_status():
    first, second = generate(120, today=DAY), generate(120, today=DAY)
    assert first == second
    assert generate(120, seed=1, today=DAY) != first
    final = {record.code: record for stage in first for record in stage}
    assert len(final) == 120
    assert set(Counter(r.status for r in final.values())) == set(DossierStatus)
    for record in final.values():
        assert record.submitted_at <= record.updated_at
        assert len(record.applicant_phone) == 10 and record.applicant_phone.startswith("0")


async def test_demo_loads_and_its_sample_code_can_be_looked_up(service):
    result = await load_demo(service, count=60)
    assert result.count == 60 and result.report.created == 60
    assert {"received", "processing", "completed", "returned", "rejected", "cancelled",
            "supplement_requested", "processing_overdue"} <= set(result.samples)
    code, digits = result.samples["processing_overdue"]
    lookup = await service.lookup(code, digits, "demo")
    assert lookup.state == "processing" and lookup.view.overdue
    code, digits = result.samples["supplement_requested"]
    assert (await service.lookup(code, digits, "demo")).view.note
    history = await service.history(result.samples["returned"][0])
    assert [h.status.value for h in history] == ["received", "processing", "returned"]
    again = await load_demo(service, count=60)
    assert again.report.created == again.report.updated == 0


def test_register_adds_the_dossiers_commands():
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["dossiers", "import", "x.csv", "--database-url", "sqlite:///x.db"])
    assert args.handler is cli.cmd_import and args.file == "x.csv"
    assert parser.parse_args(["dossiers", "demo", "--count", "5"]).count == 5
    assert parser.parse_args(["dossiers", "serve-sync", "--port", "9000"]).port == 9000


def test_import_command(tmp_path, capsys):
    path = tmp_path / "in.csv"
    path.write_text(csv_text(row(), row(code="bad-code")), "utf-8")
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert cli.main(["import", str(path), "--database-url", url]) == 1  # one bad row
    out, err = capsys.readouterr()
    assert "line 3: code:" in err
    assert "2 rows: 1 accepted, 1 rejected; 1 created" in out
    path.write_text(csv_text(row()), "utf-8")
    assert cli.main(["import", str(path), "--database-url", url]) == 0
    assert "1 unchanged" in capsys.readouterr().out
    assert cli.main(["import", str(tmp_path / "none.csv"), "--database-url", url]) == 2


def test_demo_command_prints_a_code_to_try(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    assert cli.main(["demo", "--count", "30", "--database-url", url]) == 0
    out = capsys.readouterr().out
    assert "Try a lookup: dossier code " in out and "last 4 digits of the phone" in out


def test_serve_sync_refuses_to_start_without_a_token(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("DOSSIER_SYNC_TOKEN", raising=False)
    assert cli.main(["serve-sync", "--database-url", f"sqlite:///{tmp_path / 's.db'}"]) == 2
    assert "DOSSIER_SYNC_TOKEN" in capsys.readouterr().err
