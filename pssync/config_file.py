"""Reading the YAML files pssync is configured with (the config file, the ownership rules, the order
mapping): every mistake in one is one line naming the file, the line and the column (a tab, an
unclosed bracket, a key given twice), never a parser traceback."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from pssync.errors import ConfigError
from pssync.secret_keys import is_secret_key

_STR = "tag:yaml.org,2002:str"
_READ_AS_NUMBER_OR_BOOL = {"tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool"}


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping (YAML keeps the last silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, yaml.Node] = {}
        for key_node, value_node in node.value:
            self.keep_text(key_node, value_node)
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                first = seen[key].start_mark
                raise yaml.MarkedYAMLError(
                    problem=f"key {key!r} is given twice (first at line {first.line + 1} column "
                            f"{first.column + 1}); only one can count",
                    problem_mark=key_node.start_mark)
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)

    def keep_text(self, key_node: yaml.Node, value_node: yaml.Node) -> None:
        """Nothing here; the config file's loader keeps secrets as written."""


class _ConfigLoader(_Loader):
    """The config file's loader: a secret written unquoted (``password: 0123``, ``secret: yes``)
    is the text as written, not the number or boolean YAML would read (83, True)."""

    def keep_text(self, key_node: yaml.Node, value_node: yaml.Node) -> None:
        if (isinstance(key_node, yaml.ScalarNode) and isinstance(value_node, yaml.ScalarNode)
                and value_node.tag in _READ_AS_NUMBER_OR_BOOL and is_secret_key(str(key_node.value))):
            value_node.tag = _STR


def read_yaml_file(path: Path, label: str, missing_hint: str = "", loader: type[_Loader] = _Loader) -> Any:
    """The parsed contents of a YAML file pssync is configured with; anything wrong with it is a
    ConfigError in one line that starts with ``label`` (the file's setting) and the path;
    ``missing_hint`` ends the message when the file does not exist."""
    path = Path(path)
    where = f"{label} {path}"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        relative = "" if path.is_absolute() else f" (relative to the working directory {Path.cwd()})"
        raise ConfigError(f"{where} does not exist{relative}{missing_hint}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{where} is not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(f"{where} cannot be read: {exc.strerror or exc}") from None
    try:
        return yaml.load(text, Loader=loader)      # noqa: S506 - a SafeLoader
    except yaml.MarkedYAMLError as exc:
        raise ConfigError(f"{where}: {describe_yaml_error(exc)}") from None
    except yaml.YAMLError as exc:                  # the reader's: a control character, say
        raise ConfigError(f"{where}: not valid YAML: {' '.join(str(exc).split())}") from None


def read_config_file(path: Path) -> dict[str, Any]:
    """The config file's sections as a dict; a ConfigError in one line for anything that is not one."""
    data = read_yaml_file(path, "config file", loader=_ConfigLoader)
    # an empty file would run everything on the defaults (capture name, server_id) and displace
    # the capture that really owns them
    if data is None:
        raise ConfigError(f"config file {path} is empty (or holds only comments): "
                          "give at least the keys that differ from the defaults")
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path}: the top level must map sections (mysql:, kafka:, ...) "
                          f"to their keys, not be a {type(data).__name__}")
    return data


def describe_yaml_error(exc: yaml.MarkedYAMLError) -> str:
    """``line L column C: what is wrong`` (1-based, as editors count), plus where the construct it
    breaks started when that is elsewhere."""
    mark = exc.problem_mark or exc.context_mark
    where = f"line {mark.line + 1} column {mark.column + 1}: " if mark is not None else ""
    problem = exc.problem or exc.context or "not valid YAML"
    text = f"{where}{problem}"
    if "'\\t'" in problem:
        text += " (YAML indents with spaces, never tabs)"
    context = exc.context_mark
    if exc.context and context is not None and mark is not None and context.line != mark.line:
        construct = exc.context.removeprefix("while parsing ").removeprefix("while scanning ").removeprefix("a ")
        text += f" (in the {construct} that starts at line {context.line + 1} column {context.column + 1})"
    return text
