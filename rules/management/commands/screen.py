"""`python manage.py screen FILE [FILE ...]`: evaluate fact documents, print results, store nothing.

One file prints one JSON result; several print one compact JSON object per line, in order; `-`
reads one document from standard input. An invalid document (a file that is not JSON, is
too large or too deeply nested included) prints `{"file": …, "errors": [{"field": …,
"message": …}]}` on its line, the rest go on, and the command exits with status 2 at the end.
Each document costs bounded time whatever it holds (the engine's `MAX_*` limits).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connection
from django.utils import timezone

from rules.engine import (
    CompiledRuleSet,
    FactsInvalid,
    FieldError,
    RuleSetInvalid,
    parse_document,
)
from rules.engine.facts import MAX_DOCUMENT_BYTES
from rules.loader import (
    DEFAULT_RULES_FILES,
    DEFAULT_VERSION,
    compiled_default_file,
    compiled_version,
)
from rules.models import RuleSetVersion
from rules.selectors import (
    DEFAULT_RULE_SET,
    RuleSetVersionNotFound,
    numbered_version,
    published_version,
)

INVALID_EXIT = 2


class Command(BaseCommand):
    help = "Screen fact documents (JSON) under the published rule set, or --ruleset-version N."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE", help="JSON documents; - for stdin")
        parser.add_argument(
            "--ruleset-version", type=int, metavar="N", help="a published or retired version"
        )
        parser.add_argument("--ruleset", default=DEFAULT_RULE_SET, help="rule set name")

    def handle(self, *args: Any, **options: Any) -> None:
        files: list[str] = options["files"]
        if files.count("-") > 1:
            raise CommandError("standard input (-) can be read only once")
        ruleset = self._ruleset(options["ruleset"], options["ruleset_version"])
        today = timezone.localdate()
        single = len(files) == 1
        failed = False
        for name in files:
            try:
                result = ruleset.screen(_read(name), today=today)
            except FactsInvalid as exc:
                failed = True
                self._print({"file": name, "errors": exc.as_list()}, single)
            else:
                self._print(result.model_dump(mode="json"), single)
        if failed:
            sys.exit(INVALID_EXIT)

    def _ruleset(self, name: str, number: int | None) -> CompiledRuleSet:
        try:
            version = published_version(name) if number is None else numbered_version(number, name)
            return compiled_version(version)
        except RuleSetVersionNotFound as exc:
            raise CommandError(str(exc)) from None
        except RuleSetInvalid as exc:
            raise CommandError(f"the stored rule set does not compile: {exc}") from None
        except DatabaseError as exc:
            wanted = DEFAULT_VERSION if number is None else number
            if name == DEFAULT_RULE_SET and wanted in DEFAULT_RULES_FILES and _not_migrated():
                # Nothing is published anywhere yet: the version as `migrate` would publish it.
                self.stderr.write(
                    "The database is not migrated: screening under the default rule set as "
                    f"`migrate` would publish it ({DEFAULT_RULES_FILES[wanted].name}, "
                    f"version {wanted})."
                )
                return compiled_default_file(wanted)
            raise CommandError(
                f"cannot read rule sets from the database ({exc.__class__.__name__}): "
                "run `python manage.py migrate` first"
            ) from None

    def _print(self, document: dict[str, Any], pretty: bool) -> None:
        indent = 2 if pretty else None
        separators = None if pretty else (",", ":")
        self.stdout.write(
            json.dumps(document, ensure_ascii=False, indent=indent, separators=separators)
        )


def _not_migrated() -> bool:
    """The database answers but has no rule-set tables (an unreachable one is not this)."""
    try:
        return RuleSetVersion._meta.db_table not in connection.introspection.table_names()
    except DatabaseError:
        return False


def _read(name: str) -> Any:
    """The parsed document, or `FactsInvalid` naming what is wrong with the file itself (it
    cannot be read, is too large, is not JSON or is nested too deeply)."""
    try:
        if name == "-":
            text = sys.stdin.read(MAX_DOCUMENT_BYTES + 1)
        else:
            with Path(name).open(encoding="utf-8") as file:
                text = file.read(MAX_DOCUMENT_BYTES + 1)
    except (OSError, UnicodeDecodeError) as exc:
        raise FactsInvalid([FieldError("(document)", f"cannot be read: {exc}")]) from None
    return parse_document(text)
