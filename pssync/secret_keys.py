"""Which configuration keys hold secrets: their values are never shown in a message, and a number
given for one (``password: 987654321`` in YAML) is taken as the text it was written as."""
from __future__ import annotations

import re
from typing import Any

# a key whose value is never shown in a message (a password, a token, a client secret...)
_SECRET_WORDS = re.compile(r"pass|secret|token|key|credential|user_info|sask|(^|[._])cs$", re.IGNORECASE)


def is_secret_key(key: str) -> bool:
    return bool(_SECRET_WORDS.search(key))


def number_as_text(value: Any) -> Any:
    """A whole number given for a secret, as text (a float would not keep its digits: the config
    file's loader keeps the text as written instead); anything else unchanged."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value
