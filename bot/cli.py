"""Operator command line: ``bot <group> <command>`` (see ``bot --help``)."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from pathlib import Path
from typing import List, Optional

from bot.settings import get_settings


def _procedures_import(args: argparse.Namespace) -> int:
    from bot.catalogue.importer import CatalogueError, import_catalogue
    from bot.db import create_engine
    from bot.migrate import upgrade

    settings = get_settings()
    upgrade(settings.database_url)

    async def run():
        engine = create_engine(settings.database_url)
        try:
            return await import_catalogue(
                engine,
                national=Path(args.file),
                curated_dir=Path(args.curated),
                life_events=Path(args.life_events),
                synonyms=Path(args.synonyms),
                court_matters=Path(args.court_matters),
                aliases=Path(args.aliases),
            )
        finally:
            await engine.dispose()

    try:
        report = asyncio.run(run())
    except CatalogueError as error:
        print(f"catalogue not imported: {error}", file=sys.stderr)
        return 1
    print(
        f"imported {report.procedures} procedures ({report.curated} curated, "
        f"{report.removed} removed), version {report.version}"
    )
    if report.unknown_alias_codes:
        print(
            f"aliases skipped, codes not in the list: {', '.join(report.unknown_alias_codes)}",
            file=sys.stderr,
        )
    return 0


def _procedures_search(args: argparse.Namespace) -> int:
    from bot.services import open_services

    async def run():
        services = await open_services()
        try:
            return services.catalogue.search(args.query, top=args.top)
        finally:
            await services.close()

    hits = asyncio.run(run())
    if args.json:
        print(json.dumps([hit.as_dict() for hit in hits], ensure_ascii=False, indent=2))
    else:
        for rank, hit in enumerate(hits, start=1):
            print(f"{rank}. {hit.code}  {hit.score:.3f}  {hit.name}")
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from bot.migrate import downgrade, upgrade

    url = get_settings().database_url
    if args.direction == "up":
        upgrade(url, args.revision or "head")
    else:
        downgrade(url, args.revision or "base")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from bot.catalogue.importer import (
        DEFAULT_ALIASES,
        DEFAULT_COURT_MATTERS,
        DEFAULT_CURATED,
        DEFAULT_LIFE_EVENTS,
        DEFAULT_NATIONAL,
        DEFAULT_SYNONYMS,
    )

    parser = argparse.ArgumentParser(prog="bot", description="Operator tools of the assistant")
    groups = parser.add_subparsers(dest="group", required=True)

    procedures = groups.add_parser("procedures", help="the procedure catalogue")
    commands = procedures.add_subparsers(dest="command", required=True)
    imp = commands.add_parser("import", help="import or re-import the catalogue (no downtime)")
    imp.add_argument("file", nargs="?", default=str(DEFAULT_NATIONAL), help="national list (JSON lines)")
    imp.add_argument("--curated", default=str(DEFAULT_CURATED), help="folder of curated records")
    imp.add_argument("--life-events", default=str(DEFAULT_LIFE_EVENTS))
    imp.add_argument("--synonyms", default=str(DEFAULT_SYNONYMS))
    imp.add_argument("--court-matters", default=str(DEFAULT_COURT_MATTERS))
    imp.add_argument("--aliases", default=str(DEFAULT_ALIASES), help="citizen wordings of uncurated procedures")
    imp.set_defaults(handler=_procedures_import)
    search = commands.add_parser("search", help="rank procedures for a query")
    search.add_argument("query")
    search.add_argument("--top", type=int, default=5)
    search.add_argument("--json", action="store_true", help="print JSON objects")
    search.set_defaults(handler=_procedures_search)

    migrate = groups.add_parser("db", help="database schema migrations")
    migrate.add_argument("direction", choices=["up", "down"])
    migrate.add_argument("--revision")
    migrate.set_defaults(handler=_migrate)

    try:
        from bot.dossiers.cli import register as register_dossiers
    except ImportError:  # pragma: no cover
        register_dossiers = None
    if register_dossiers is not None:
        register_dossiers(groups)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    return int(args.handler(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
