"""``PSSYNC_*`` environment variables that name no setting: refused at start, never ignored.

pydantic-settings reads only the variables that match a setting and skips the others, so a typo
(``PSSYNC_MYSQL_PORT`` with one underscore, ``PSSYNC_MYSQLL__PORT``) would leave the setting at its
default without a word. :func:`unknown_variables` names each such variable and the nearest valid one.
"""
from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel

PREFIX = "PSSYNC_"
DELIMITER = "__"

# The one list of PSSYNC_* variables that are not settings, and who reads them.
NOT_SETTINGS: frozenset[str] = frozenset({
    "PSSYNC_CONFIG",             # the config file (pssync/settings.py)
    "PSSYNC_LOG_LEVEL",          # pssync/cli.py
    "PSSYNC_STREAMS_DATADIR",    # streams/app.py: Faust's data directory
    "PSSYNC_TABLE_PREFIX",       # deploy/devstack/docker-initdb.sh (the MariaDB container)
    "PSSYNC_FIXTURES_DIR",       # deploy/devstack/docker-initdb.sh
    "PSSYNC_TEST_REGISTRY_URL",  # tests/integration
    "PSSYNC_TEST_SEED",          # tests/integration/test_whole_flow_crash.py
    "PSSYNC_PROBE_APP",          # tests/integration/streams/faust_probe_app.py
    "PSSYNC_PROBE_TOPIC",
    "PSSYNC_PROBE_BROKER",
    "PSSYNC_PROBE_OUT",
    "PSSYNC_PROBE_TRANSPORT",
})
# whole families read by something else: the embedded stack's settings (deploy/devstack/settings.py)
NOT_SETTINGS_PREFIXES: tuple[str, ...] = ("PSSYNC_STACK_",)


def unknown_variables(environ: Mapping[str, str], model: type[BaseModel]) -> list[str]:
    """One message per ``PSSYNC_*`` variable of ``environ`` that names no setting of ``model``
    (the variable's value is never shown: it may be a secret)."""
    problems = []
    for name in sorted(environ):
        upper = name.upper()          # pydantic-settings matches names case-insensitively
        if not upper.startswith(PREFIX) or upper in NOT_SETTINGS or upper.startswith(NOT_SETTINGS_PREFIXES):
            continue
        parts = upper[len(PREFIX):].lower().split(DELIMITER)
        if not _names_a_setting(model, parts):
            problems.append(_message(name, parts, model))
    return problems


def _names_a_setting(model: type[BaseModel], parts: list[str]) -> bool:
    field = _fields(model).get(parts[0])
    if field is None:
        return False
    rest = parts[1:]
    if not rest:
        return True
    sub = _model_in(field)
    if sub is not None:
        return _names_a_setting(sub, rest)
    return _is_mapping(field) and all(rest)     # free keys below a dict (erp.tryton, kafka.client_config)


def _message(name: str, parts: list[str], model: type[BaseModel]) -> str:
    tails = {c[len(PREFIX):]: c for c in _candidates(model, parts)}   # the shared prefix would match anything
    near = difflib.get_close_matches(name.upper()[len(PREFIX):], sorted(tails), n=1, cutoff=0.7)
    suggestion = tails[near[0]] if near else None
    if suggestion:
        fix = f"did you mean {suggestion}?"
    else:
        fix = ("settings are PSSYNC_<SECTION>__<KEY>, two underscores between levels; sections: "
               + ", ".join(s.upper() for s in _fields(model)))
    if suggestion and DELIMITER not in name and DELIMITER in suggestion:
        fix += " Levels are joined with a double underscore"
    return f"environment variable {name} names no setting ({fix}): rename or unset it"


def _candidates(model: type[BaseModel], parts: list[str]) -> Iterable[str]:
    yield from NOT_SETTINGS
    for path, is_mapping in _paths(model, ()):
        env = PREFIX + DELIMITER.join(path).upper()
        yield env
        if is_mapping:      # a key below a dict: keep the tail the variable gave
            for k in range(1, len(parts)):
                yield env + DELIMITER + DELIMITER.join(parts[-k:]).upper()


def _paths(model: type[BaseModel], above: tuple[str, ...]) -> Iterable[tuple[tuple[str, ...], bool]]:
    for key, field in _fields(model).items():
        path = (*above, key)
        sub = _model_in(field)
        if sub is not None:
            yield from _paths(sub, path)
        else:
            yield path, _is_mapping(field)


def _fields(model: type[BaseModel]) -> dict[str, Any]:
    return {name.lower(): info.annotation for name, info in model.model_fields.items()}


def _members(annotation: Any) -> tuple[Any, ...]:
    """The types of ``X | None`` / ``Optional[X]``, or the annotation alone."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return tuple(a for a in typing.get_args(annotation) if a is not type(None))
    return (annotation,)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    for member in _members(annotation):
        if isinstance(member, type) and issubclass(member, BaseModel):
            return member
    return None


def _is_mapping(annotation: Any) -> bool:
    return any(member is dict or typing.get_origin(member) is dict for member in _members(annotation))
