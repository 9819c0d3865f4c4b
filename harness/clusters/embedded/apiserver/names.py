"""The string rules of k8s.io/apimachinery/pkg/util/validation (IsDNS1123Label, IsQualifiedName, ...)
with their exact messages; each returns the list of what is wrong with a value (empty when valid).
"""

from __future__ import annotations

import re

DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_SUBDOMAIN_FMT = DNS1123_LABEL_FMT + r"(\." + DNS1123_LABEL_FMT + ")*"
DNS1035_LABEL_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?"
QUALIFIED_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
LABEL_VALUE_FMT = "(" + QUALIFIED_NAME_FMT + ")?"

DNS1123_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start "
    "and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
    f"'{DNS1123_LABEL_FMT}')"
)
DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    f"'{DNS1123_SUBDOMAIN_FMT}')"
)
DNS1035_LABEL_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
    "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for "
    f"validation is '{DNS1035_LABEL_FMT}')"
)
QUALIFIED_NAME_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
    "character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
    f"'{QUALIFIED_NAME_FMT}')"
)
LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used "
    f"for validation is '{LABEL_VALUE_FMT}')"
)


ENV_VAR_FMT = "[-._a-zA-Z][-._a-zA-Z0-9]*"
ENV_VAR_MSG = (
    "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and "
    "must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for "
    f"validation is '{ENV_VAR_FMT}')"
)
CONFIG_KEY_FMT = "[-._a-zA-Z0-9]+"
CONFIG_KEY_MSG = (
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or "
    f"'KEY_NAME',  or 'key-name', regex used for validation is '{CONFIG_KEY_FMT}')"
)


def _max_len(n: int) -> str:
    return f"must be no more than {n} characters"


# ---- apimachinery string rules -----------------------------------------------------------------------------
def _length_and_format(value: str, max_len: int, fmt: str, message: str) -> list[str]:
    """The two checks every apimachinery IsX function makes, in its order."""
    msgs = []
    if len(value) > max_len:
        msgs.append(_max_len(max_len))
    if not re.fullmatch(fmt, value):
        msgs.append(message)
    return msgs


def dns1123_label(value: str) -> list[str]:
    return _length_and_format(value, 63, DNS1123_LABEL_FMT, DNS1123_LABEL_MSG)


def dns1123_subdomain(value: str) -> list[str]:
    return _length_and_format(value, 253, DNS1123_SUBDOMAIN_FMT, DNS1123_SUBDOMAIN_MSG)


def dns1035_label(value: str) -> list[str]:
    return _length_and_format(value, 63, DNS1035_LABEL_FMT, DNS1035_LABEL_MSG)


def path_segment_name(value: str) -> list[str]:
    if value in (".", ".."):
        return [f"may not be '{value}'"]
    return [f"may not contain '{c}'" for c in ("/", "%") if c in value]


def qualified_name(value: str) -> list[str]:
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            return ["prefix part must be non-empty"]
        msgs = ["prefix part " + m for m in dns1123_subdomain(prefix)]
        if msgs:
            return msgs + qualified_name(name)
    else:
        return [
            "a qualified name " + QUALIFIED_NAME_MSG + " with an optional DNS subdomain prefix and '/' "
            "(e.g. 'example.com/MyName')"
        ]
    if not name:
        return ["name part must be non-empty"]
    msgs = []
    if len(name) > 63:
        msgs.append("name part " + _max_len(63))
    if not re.fullmatch(QUALIFIED_NAME_FMT, name):
        msgs.append("name part " + QUALIFIED_NAME_MSG)
    return msgs


def config_key(value: str) -> list[str]:
    msgs = _length_and_format(value, 253, CONFIG_KEY_FMT, CONFIG_KEY_MSG)
    if value in (".", ".."):
        msgs.append(f"must not be '{value}'")
    elif value.startswith(".."):
        msgs.append("must not start with '..'")
    return msgs


def label_value(value: str) -> list[str]:
    return _length_and_format(value, 63, LABEL_VALUE_FMT, LABEL_VALUE_MSG)
