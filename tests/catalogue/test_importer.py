import json

import pytest
from sqlalchemy import func, select

from bot.catalogue.importer import CatalogueError, DEFAULT_NATIONAL, import_catalogue
from bot.catalogue.service import CatalogueService
from bot.catalogue.tables import procedures
from bot.db import create_engine
from bot.migrate import downgrade, upgrade


def _write_national(path, rows):
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    return path


ROWS = [
    {"code": "1.001193", "name": "Thủ tục đăng ký khai sinh", "portal_url": "u1", "implementing_agencies": ["UBND cấp xã"]},
    {"code": "1.000894", "name": "Thủ tục đăng ký kết hôn", "portal_url": "u2"},
    {"code": "1.000656", "name": "Thủ tục đăng ký khai tử", "portal_url": "u3"},
]


def test_migrations_up_down_up(database_url):
    upgrade(database_url)
    downgrade(database_url)
    upgrade(database_url)


async def test_import_and_reimport_without_downtime(database_url, tmp_path):
    upgrade(database_url)
    engine = create_engine(database_url)
    empty = tmp_path / "curated"
    empty.mkdir()
    national = _write_national(tmp_path / "n.jsonl", ROWS)
    kwargs = dict(
        curated_dir=empty, life_events=tmp_path / "none.yml", synonyms=tmp_path / "none.yml", aliases=tmp_path / "none.yml"
    )
    try:
        report = await import_catalogue(engine, national=national, **kwargs)
        assert report.procedures == 3 and report.removed == 0
        service = CatalogueService(engine, refresh_seconds=0)
        await service.load()
        assert service.search("ket hon")[0].code == "1.000894"

        # Re-import a changed file while the service is loaded: it keeps answering, then refreshes.
        changed = ROWS[:2] + [{"code": "1.004884", "name": "Thủ tục đăng ký lại khai sinh", "portal_url": "u4"}]
        report = await import_catalogue(engine, national=_write_national(tmp_path / "n2.jsonl", changed), **kwargs)
        assert report.removed == 1
        assert service.search("khai tu")[0].code == "1.000656"  # old index still serving
        await service.maybe_refresh()
        assert "1.000656" not in [h.code for h in service.search("khai tu", top=5)]
        assert service.version == report.version
        async with engine.connect() as connection:
            assert (await connection.execute(select(func.count()).select_from(procedures))).scalar() == 3
    finally:
        await engine.dispose()


async def test_bad_file_changes_nothing(sqlite_url, tmp_path):
    upgrade(sqlite_url)
    engine = create_engine(sqlite_url)
    empty = tmp_path / "curated"
    empty.mkdir()
    kwargs = dict(
        curated_dir=empty, life_events=tmp_path / "none.yml", synonyms=tmp_path / "none.yml", aliases=tmp_path / "none.yml"
    )
    try:
        await import_catalogue(engine, national=_write_national(tmp_path / "n.jsonl", ROWS), **kwargs)
        bad = tmp_path / "bad.jsonl"
        bad.write_text('{"code": "1.1", "name": "ok"}\n{not json\n', encoding="utf-8")
        with pytest.raises(CatalogueError, match="line 2"):
            await import_catalogue(engine, national=bad, **kwargs)
        async with engine.connect() as connection:
            assert (await connection.execute(select(func.count()).select_from(procedures))).scalar() == 3
    finally:
        await engine.dispose()


def test_curated_records_all_valid_and_in_catalogue():
    from bot.catalogue.importer import DEFAULT_CURATED, DEFAULT_LIFE_EVENTS
    from bot.catalogue.records import load_curated, load_life_events, read_national

    codes = {row["code"] for row in read_national(DEFAULT_NATIONAL)}
    records = load_curated(DEFAULT_CURATED)
    assert len(records) >= 60
    assert all(r.code in codes for r in records)
    assert len({r.code for r in records}) == len(records)
    slugs = {r.slug for r in records}
    for event in load_life_events(DEFAULT_LIFE_EVENTS):
        assert set(event.procedures) <= slugs | codes, event.id


def test_shipped_aliases_name_uncurated_procedures_of_the_list():
    from bot.catalogue.importer import DEFAULT_ALIASES, DEFAULT_CURATED
    from bot.catalogue.records import load_aliases, load_curated, read_national

    codes = {row["code"] for row in read_national(DEFAULT_NATIONAL)}
    curated = {r.code for r in load_curated(DEFAULT_CURATED)}
    aliases = load_aliases(DEFAULT_ALIASES)
    assert aliases and set(aliases) <= codes - curated
    assert all(phrases and all(p.strip() for p in phrases) for phrases in aliases.values())


async def test_aliases_make_an_uncurated_procedure_findable(sqlite_url, tmp_path):
    upgrade(sqlite_url)
    engine = create_engine(sqlite_url)
    empty = tmp_path / "curated"
    empty.mkdir()
    rows = ROWS + [{"code": "1.010038", "name": "Tách hộ", "portal_url": "u5"}]
    aliases = tmp_path / "aliases.yml"
    aliases.write_text('"1.010038": [ra riêng sổ hộ khẩu]\n"9.999999": [không có trong danh mục]\n', encoding="utf-8")
    kwargs = dict(curated_dir=empty, life_events=tmp_path / "none.yml", synonyms=tmp_path / "none.yml")
    try:
        none = tmp_path / "none.yml"
        await import_catalogue(engine, national=_write_national(tmp_path / "n.jsonl", rows), aliases=none, **kwargs)
        service = CatalogueService(engine, refresh_seconds=0)
        await service.load()
        query = "vo chong em muon ra rieng so ho khau"
        before = {h.code: h.score for h in service.search(query, top=5)}.get("1.010038", 0.0)
        assert not service.holds_name(query, "1.010038")

        report = await import_catalogue(
            engine, national=_write_national(tmp_path / "n.jsonl", rows), aliases=aliases, **kwargs
        )
        assert report.unknown_alias_codes == ("9.999999",)
        await service.maybe_refresh()
        hit = service.search(query)[0]
        assert service.holds_name(query, "1.010038")  # the alias is indexed as a name
        assert hit.code == "1.010038" and hit.score > before + 0.1
    finally:
        await engine.dispose()


def test_unquoted_codes_are_refused(tmp_path):
    from bot.catalogue.records import load_aliases

    path = tmp_path / "aliases.yml"
    path.write_text("1.010030: [tách hộ]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="quote the procedure codes"):
        load_aliases(path)
