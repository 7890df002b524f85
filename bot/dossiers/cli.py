"""``bot dossiers ...`` commands: import, demo, serve-sync.

The project CLI calls :func:`register` with its argparse subparsers; each command sets
``handler`` (called with the parsed arguments, returns the exit code). Standalone:
``python -m bot.dossiers.cli import FILE.csv``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from dataclasses import replace
from typing import List, Optional

from bot.settings import Settings, get_settings

MAX_ERRORS_SHOWN = 200


def _settings(args: argparse.Namespace) -> Settings:
    settings = get_settings()
    if getattr(args, "database_url", None):
        settings = replace(settings, database_url=args.database_url)
    return settings


def _migrate(settings: Settings) -> None:
    from bot.migrate import upgrade

    upgrade(settings.database_url)


async def _with_service(settings: Settings, work):
    from bot.db import create_engine
    from bot.dossiers.service import build_dossier_service

    engine = create_engine(settings.database_url)
    service = await build_dossier_service(engine, settings)
    try:
        return await work(service)
    finally:
        await service.close()
        await engine.dispose()


def cmd_import(args: argparse.Namespace) -> int:
    from bot.dossiers.errors import InvalidFile
    from bot.dossiers.importer import import_csv

    settings = _settings(args)
    _migrate(settings)
    try:
        result = asyncio.run(_with_service(settings, lambda s: import_csv(s, args.file)))
    except InvalidFile as error:
        print(f"error: {args.file}: {error}", file=sys.stderr)
        return 2
    for error in result.errors[:MAX_ERRORS_SHOWN]:
        print(f"{args.file}: {error}", file=sys.stderr)
    if len(result.errors) > MAX_ERRORS_SHOWN:
        print(f"... and {len(result.errors) - MAX_ERRORS_SHOWN} more bad rows", file=sys.stderr)
    if result.ignored_columns:
        print("ignored column(s): " + ", ".join(result.ignored_columns), file=sys.stderr)
    report = result.report
    print(
        f"{result.rows} rows: {result.accepted} accepted, {len(result.errors)} rejected; "
        f"{report.created} created, {report.updated} updated, {report.unchanged} unchanged, "
        f"{report.stale} older than stored (ignored), {report.status_changes} status changes recorded"
    )
    return 1 if result.errors else 0


def cmd_demo(args: argparse.Namespace) -> int:
    from bot.dossiers.demo import load_demo

    settings = _settings(args)
    _migrate(settings)
    result = asyncio.run(
        _with_service(settings, lambda s: load_demo(s, count=args.count, seed=args.seed))
    )
    report = result.report
    print(f"demo set: {result.count} dossiers ({report.created} created, {report.updated} updated, "
          f"{report.unchanged} unchanged)")
    code, digits = (result.samples.get("processing") or result.samples.get("processing_overdue")
                    or next(iter(result.samples.values())))
    print(f"Try a lookup: dossier code {code}, last 4 digits of the phone {digits}")
    print("  e.g. say: \"tra cứu hồ sơ " + code + "\", then \"" + digits + "\"")
    print("One dossier per answer:")
    for state, (code, digits) in sorted(result.samples.items()):
        print(f"  {state:<22} {code}  {digits}")
    return 0


def cmd_serve_sync(args: argparse.Namespace) -> int:
    from aiohttp import web

    from bot.dossiers.sync_app import create_app

    settings = _settings(args)
    if not settings.dossier_sync_token:
        print("error: set DOSSIER_SYNC_TOKEN (the bearer token the one-stop system sends)",
              file=sys.stderr)
        return 2
    if len(settings.dossier_sync_token) < 24:
        print("warning: DOSSIER_SYNC_TOKEN is short; use at least 24 random characters",
              file=sys.stderr)
    if not args.no_migrate:
        _migrate(settings)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    web.run_app(create_app(settings), host=args.host, port=args.port, access_log=None)
    return 0


def register(subparsers) -> argparse.ArgumentParser:
    """Add the ``dossiers`` command group to an argparse subparsers object."""
    from bot.dossiers.demo import DEFAULT_COUNT, DEFAULT_SEED

    parser = subparsers.add_parser("dossiers", help="dossier database: import, demo, sync endpoint")
    commands = parser.add_subparsers(dest="dossiers_command", metavar="COMMAND")
    commands.required = True

    def common(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--database-url", help="overrides DATABASE_URL")

    imp = commands.add_parser("import", help="upsert dossiers from a UTF-8 CSV file")
    imp.add_argument("file", help="CSV with header " + "code,procedure_code,procedure_name,"
                     "applicant_name,applicant_phone,agency,status,submitted_at,due_at,updated_at,note")
    common(imp)
    imp.set_defaults(handler=cmd_import)

    demo = commands.add_parser("demo", help="load a realistic demo set and print codes to try")
    demo.add_argument("--count", type=int, default=DEFAULT_COUNT)
    demo.add_argument("--seed", type=int, default=DEFAULT_SEED)
    common(demo)
    demo.set_defaults(handler=cmd_demo)

    serve = commands.add_parser("serve-sync", help="run the push endpoint (POST /dossiers)")
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=5056)
    serve.add_argument("--no-migrate", action="store_true", help="do not upgrade the schema first")
    common(serve)
    serve.set_defaults(handler=cmd_serve_sync)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.dossiers.cli")
    subparsers = parser.add_subparsers(dest="command")
    register(subparsers)
    args = parser.parse_args(["dossiers", *(sys.argv[1:] if argv is None else argv)])
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
