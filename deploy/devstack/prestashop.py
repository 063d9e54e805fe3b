import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pymysql

from .settings import PRESTASHOP_FIXTURES_DIR

PLACEHOLDER = "PREFIX_"
SCHEMA_FILE = "schema.sql"
DEMO_DATA_FILE = "demo_data.sql"

_DELIMITER_LINE = re.compile(r"[ \t]*DELIMITER[ \t]+(\S+)[ \t]*(?:\r?\n|$)", re.IGNORECASE)
_QUOTED_END = {
    "'": re.compile(r"[^'\\]*(?:\\.[^'\\]*)*'", re.DOTALL),
    '"': re.compile(r'[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL),
    "`": re.compile(r"[^`]*`"),
}


def _special(delimiter: str) -> re.Pattern[str]:
    return re.compile(r"['\"`#\n]|--(?=\s|$)|/\*|" + re.escape(delimiter))


def split_sql(text: str) -> Iterator[str]:
    """Split a SQL script into statements (quotes, comments, `/*! */` and DELIMITER aware)."""
    delimiter = ";"
    special = _special(delimiter)
    buf: list[str] = []
    pos, end = 0, len(text)

    def pending() -> str:
        return "".join(buf).strip()

    while pos < end:
        if (pos == 0 or text[pos - 1] == "\n") and not pending():
            directive = _DELIMITER_LINE.match(text, pos)
            if directive:
                delimiter = directive.group(1)
                special = _special(delimiter)
                pos = directive.end()
                buf.clear()
                continue
        match = special.search(text, pos)
        if match is None:
            buf.append(text[pos:])
            break
        buf.append(text[pos:match.start()])
        token = match.group(0)
        pos = match.end()
        if token == delimiter:
            statement = pending()
            buf.clear()
            if statement:
                yield statement
        elif token in _QUOTED_END:
            closing = _QUOTED_END[token].match(text, pos)
            stop = closing.end() if closing else end
            buf.append(token + text[pos:stop])
            pos = stop
        elif token in ("#", "--"):
            newline = text.find("\n", pos)
            pos = end if newline < 0 else newline
        elif token == "/*":
            close = text.find("*/", pos)
            stop = end if close < 0 else close + 2
            if text.startswith(("!", "M!"), pos):
                buf.append(token + text[pos:stop])
            else:
                buf.append(" ")
            pos = stop
        else:
            buf.append(token)
    statement = pending()
    if statement:
        yield statement


def fixture_files(fixtures_dir: Path | None = None, with_demo_data: bool = True) -> list[Path]:
    root = fixtures_dir or PRESTASHOP_FIXTURES_DIR
    files = [root / SCHEMA_FILE]
    if with_demo_data:
        files.append(root / DEMO_DATA_FILE)
    return files


def render_fixture(path: Path, prefix: str) -> str:
    return path.read_text(encoding="utf-8").replace(PLACEHOLDER, prefix)


def load_prestashop_fixtures(
    conn_params: Mapping[str, Any],
    database: str,
    prefix: str,
    with_demo_data: bool = True,
    *,
    fixtures_dir: Path | None = None,
) -> int:
    """Create `database` if needed and run the PrestaShop DDL (and demo data) in it.

    Returns the number of statements executed. Raises FileNotFoundError if a file is missing.
    """
    files = fixture_files(fixtures_dir, with_demo_data)
    for path in files:
        if not path.is_file():
            raise FileNotFoundError(f"PrestaShop fixture file missing: {path}")
    params = {"charset": "utf8mb4", **conn_params}
    params.pop("database", None)
    params.pop("db", None)
    executed = 0
    conn = pymysql.connect(**params, autocommit=False)
    try:
        with conn.cursor() as cur:
            quoted = "`" + database.replace("`", "``") + "`"
            cur.execute(f"CREATE DATABASE IF NOT EXISTS {quoted} CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci")
            conn.select_db(database)
            for path in files:
                for statement in split_sql(render_fixture(path, prefix)):
                    try:
                        cur.execute(statement)
                    except pymysql.MySQLError as exc:
                        snippet = statement if len(statement) < 300 else statement[:300] + "..."
                        raise RuntimeError(f"{path.name}: {exc} in statement: {snippet}") from exc
                    executed += 1
        conn.commit()
    finally:
        conn.close()
    return executed
