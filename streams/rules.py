"""Who owns each PrestaShop column, the ERP or the shop, and which way it flows.

Loaded from a YAML file (``deploy/rules.yaml``) and validated against the shop's real columns:
every column has at most ONE owning entity, so ``owner(table, column)`` is never ambiguous.
Table names are PrestaShop's without the prefix (``orders``, ``product``); methods also accept
the prefixed name (``ps_orders``)."""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError
from pssync.errors import PermanentError

Owner = Literal["erp", "prestashop"]
Flow = Literal["erp_to_prestashop", "prestashop_to_erp", "none"]
# violation: a shop-side change of the column is an error (see Rules.violations).
# reconcile: the shop legitimately changes the column too (checkout decrements
# stock_available.quantity), so single changes prove nothing; drift is found by comparing
# values instead (streams.stock.reconcile).
Enforce = Literal["violation", "reconcile"]
ALL = "*"
_STATE_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")


class RulesError(PermanentError, ValueError):
    """Every problem found in a rules file, one line each."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("invalid ownership rules:\n  " + "\n  ".join(problems))


class _AllExcept(BaseModel):
    model_config = ConfigDict(extra="forbid")
    all_except: list[str]


TableSpec = Literal["*"] | list[str] | _AllExcept


class _Entity(BaseModel):
    model_config = ConfigDict(extra="forbid")
    owner: Owner
    flow: Flow
    enforce: Enforce = "violation"
    tables: dict[str, TableSpec] = {}
    states: list[str] = []          # order states (PS_OS_* names) this entity's owner drives


class _RulesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: Literal[1] = 1
    entities: dict[str, _Entity]


@dataclass(frozen=True)
class Claim:
    entity: str
    owner: Owner
    flow: Flow
    enforce: Enforce


@dataclass(frozen=True)
class Violation:
    table: str
    column: str
    before: Any
    after: Any
    owner: Owner
    entity: str


class Rules:
    def __init__(self, claims: Mapping[tuple[str, str], Claim], states: Mapping[str, Claim],
                 known_columns: Mapping[str, set[str]], prefix: str = "ps_"):
        self._claims = dict(claims)
        self._states = dict(states)
        self._known = {t: frozenset(c) for t, c in known_columns.items()}
        self.prefix = prefix

    def table(self, name: str) -> str:
        """The unprefixed name of a known table; ValueError for an unknown one (a typo must not
        read as 'nobody owns it')."""
        if name in self._known:
            return name
        if self.prefix and name.startswith(self.prefix) and name[len(self.prefix):] in self._known:
            return name[len(self.prefix):]
        raise ValueError(f"unknown table {name!r}")

    def claim(self, table: str, column: str) -> Claim | None:
        table = self.table(table)
        if column not in self._known[table]:
            raise ValueError(f"unknown column {self.prefix}{table}.{column}")
        return self._claims.get((table, column))

    def owner(self, table: str, column: str) -> Owner | None:
        """None: no entity claims the column (e.g. core-maintained reserved_quantity)."""
        claim = self.claim(table, column)
        return claim.owner if claim else None

    def erp_owned_columns(self, table: str) -> frozenset[str]:
        table = self.table(table)
        return frozenset(c for (t, c), claim in self._claims.items() if t == table and claim.owner == "erp")

    def state_owner(self, state: str) -> Owner | None:
        """Which system drives an order state (by configuration name, e.g. PS_OS_SHIPPING);
        None: not declared, the shop's as owner of the order."""
        claim = self._states.get(state)
        return claim.owner if claim else None

    def violations(self, table: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> list[Violation]:
        """ERP-owned columns a shop-side update changed. Only columns present in both rows are
        compared: an insert or a delete changes no field. Columns enforced by reconciliation
        are skipped. Values compare with ==, so Decimal('23.9') equals Decimal('23.900000')."""
        table = self.table(table)
        found = []
        for column in sorted(self.erp_owned_columns(table)):
            claim = self._claims[(table, column)]
            if claim.enforce != "violation" or column not in before or column not in after:
                continue
            if before[column] != after[column]:
                found.append(Violation(table, column, before[column], after[column], claim.owner, claim.entity))
        return found


def load_rules(path: str | Path, known_columns: Mapping[str, set[str]], prefix: str = "ps_") -> Rules:
    """Read and validate a rules file. ``known_columns``: unprefixed table name -> its columns
    (``columns_from_ddl`` or information_schema). ``prefix`` only shapes names in messages and
    the names the methods accept. Raises RulesError listing every problem."""
    return rules_from(yaml.safe_load(Path(path).read_text()), known_columns, prefix)


def rules_from(raw: Any, known_columns: Mapping[str, set[str]], prefix: str = "ps_") -> Rules:
    """Validate the parsed contents of a rules file (see :func:`load_rules`)."""
    try:
        spec = _RulesFile.model_validate(raw)
    except ValidationError as exc:
        raise RulesError(_pydantic_problems(exc)) from None
    problems: list[str] = []
    claims: dict[tuple[str, str], Claim] = {}
    states: dict[str, Claim] = {}
    for name, entity in spec.entities.items():
        claim = Claim(name, entity.owner, entity.flow, entity.enforce)
        if entity.flow != "none" and not entity.flow.startswith(f"{entity.owner}_to_"):
            problems.append(f"entity {name!r}: owner {entity.owner} but flow {entity.flow}; "
                            "data flows from its owner (or 'none')")
        for table, columns in entity.tables.items():
            if table not in known_columns:
                problems.append(f"entity {name!r}: unknown table {prefix}{table}")
                continue
            for column in _expand(name, table, columns, known_columns[table], prefix, problems):
                other = claims.get((table, column))
                if other is None:
                    claims[(table, column)] = claim
                elif other.entity != name:
                    problems.append(_conflict(f"{prefix}{table}.{column}", other, claim))
        for state in entity.states:
            if not _STATE_NAME.match(state):
                problems.append(f"entity {name!r}: state {state!r} is not a configuration name like PS_OS_SHIPPING")
            elif state in states and states[state].entity != name:
                problems.append(_conflict(f"order state {state}", states[state], claim))
            else:
                states[state] = claim
    if problems:
        raise RulesError(problems)
    return Rules(claims, states, known_columns, prefix)


def _expand(entity: str, table: str, spec: TableSpec, known: set[str], prefix: str,
            problems: list[str]) -> list[str]:
    if spec == ALL:
        return sorted(known)
    listed = spec.all_except if isinstance(spec, _AllExcept) else spec
    unknown = [c for c in listed if c not in known]
    problems.extend(f"entity {entity!r}: unknown column {prefix}{table}.{c}" for c in unknown)
    if isinstance(spec, _AllExcept):
        return sorted(known - set(listed))
    return [c for c in listed if c in known]


def _conflict(what: str, first: Claim, second: Claim) -> str:
    if first.owner != second.owner:
        return f"{what} is owned by both {first.owner} ({first.entity}) and {second.owner} ({second.entity})"
    return f"{what} is claimed by both entity {first.entity!r} and entity {second.entity!r} (one entity per column)"


def _pydantic_problems(exc: ValidationError) -> list[str]:
    problems = []
    for err in exc.errors():
        loc = [str(part) for part in err["loc"]]
        where = ".".join(loc)
        if len(loc) >= 2 and loc[0] == "entities":
            where = f"entity {loc[1]!r}" + (f", {'.'.join(loc[2:])}" if len(loc) > 2 else "")
        problems.append(f"{where}: {err['msg']} (got {err['input']!r})")
    return problems


# ---- offline column catalogue from PrestaShop DDL -------------------------------------------------

_CREATE = re.compile(r"CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?`([^`]+)`\s*\(", re.IGNORECASE)
_COMMENTS = re.compile(r"/\*.*?\*/|--[^\n]*", re.DOTALL)


def columns_from_ddl(path: str | Path, prefix: str = "PREFIX_") -> dict[str, set[str]]:
    """Unprefixed table name -> column names, from the CREATE TABLE statements of a DDL file
    such as deploy/prestashop/schema.sql. Tables without the prefix are kept as named."""
    sql = _COMMENTS.sub("", Path(path).read_text())
    tables: dict[str, set[str]] = {}
    for match in _CREATE.finditer(sql):
        name = match.group(1)
        if prefix and name.startswith(prefix):
            name = name[len(prefix):]
        body = _parenthesised(sql, match.end() - 1)
        tables[name] = {item.split("`")[1] for item in _split_top_level(body) if item.startswith("`")}
    return tables


def _parenthesised(sql: str, open_at: int) -> str:
    """The text inside the parenthesis opening at ``open_at``, quotes respected."""
    depth, quote = 0, ""
    for i in range(open_at, len(sql)):
        ch = sql[i]
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return sql[open_at + 1:i]
    raise ValueError(f"unbalanced parenthesis in CREATE TABLE at offset {open_at}")


def _split_top_level(body: str) -> list[str]:
    """Column and key definitions: the body split on commas outside parentheses and quotes."""
    items, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(body):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            items.append(body[start:i].strip())
            start = i + 1
    items.append(body[start:].strip())
    return [item for item in items if item]
