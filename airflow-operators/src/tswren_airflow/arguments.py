"""Checking operator arguments and turning them into ``tswren`` command-line options.

Everything here runs before a process is started: a refused argument raises
:class:`TswrenOperatorError` naming the parameter and the fix, and nothing is invoked.
"""

from __future__ import annotations

import json
import re
from typing import Any, Mapping, Sequence

from tswren_airflow.errors import TswrenOperatorError

_FUNCTION_REF = re.compile(r"^[^#\s][^#]*(#[A-Za-z_$][A-Za-z0-9_$]*)?$")


def bad(param: str, problem: str, fix: str) -> TswrenOperatorError:
    """A ``TSWREN_BAD_INPUT`` error for one parameter."""
    return TswrenOperatorError("TSWREN_BAD_INPUT", f"{param} {problem}; {fix}")


def check_function_ref(param: str, value: Any) -> str:
    """Return ``value`` when it names a module export (``"jobs/wc.ts#countWords"``).

    :raises TswrenOperatorError: ``TSWREN_BAD_INPUT`` for a Python callable or anything else.
    """
    if callable(value):
        name = getattr(value, "__name__", type(value).__name__)
        raise bad(param, f"is the Python callable {name!r}, which cannot run in Node",
                  'name an exported function of a JavaScript/TypeScript module instead, '
                  'e.g. "jobs/wordcount.ts#countWords" (relative to the DAG file\'s folder)')
    if not isinstance(value, str) or not _FUNCTION_REF.match(value.strip()):
        raise bad(param, f"must be a string \"<module file>#<export>\", got {value!r}",
                  'e.g. "jobs/wordcount.ts#countWords"')
    return value.strip()


def check_positive_int(param: str, value: Any) -> int | None:
    """Return ``value`` if it is ``None`` or an integer >= 1.

    :raises TswrenOperatorError: ``TSWREN_BAD_INPUT`` otherwise.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise bad(param, f"must be an integer >= 1, got {value!r}", f"pass e.g. {param}=4 or leave it out")
    return value


def check_mapping(param: str, value: Any, str_values: bool = False) -> dict[str, Any] | None:
    """Return ``value`` as a dict if it is ``None`` or a mapping with string keys.

    :raises TswrenOperatorError: ``TSWREN_BAD_INPUT`` otherwise.
    """
    if value is None:
        return None
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise bad(param, f"must be a dict with string keys, got {type(value).__name__}", "pass e.g. {\"key\": \"value\"}")
    if str_values and not all(isinstance(v, str) for v in value.values()):
        raise bad(param, "must map names to strings", "pass e.g. {\"MODE\": \"fast\"}")
    return dict(value)


def check_names(param: str, value: Any) -> list[str] | None:
    """Return ``value`` if it is ``None`` or a list of non-empty strings (npm package names).

    :raises TswrenOperatorError: ``TSWREN_BAD_INPUT`` otherwise.
    """
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, Sequence) or not all(isinstance(v, str) and v for v in value):
        raise bad(param, f"must be a list of npm package names, got {value!r}", 'pass e.g. ["yaml"]')
    return list(value)


def check_iterdata_from_task(value: Any) -> str | dict[str, str] | None:
    """Return ``value`` if it is ``None``, a task id, or ``{parameter: task_id}``.

    :raises TswrenOperatorError: ``TSWREN_BAD_INPUT`` otherwise.
    """
    if value is None or (isinstance(value, str) and value):
        return value
    mapping = check_mapping("iterdata_from_task", value, str_values=True)
    if not mapping:
        raise bad("iterdata_from_task", "is empty", "pass a task id or {\"param\": \"task_id\"}")
    return mapping


def to_json(param: str, value: Any) -> str:
    """Serialize a JSON value of a parameter.

    :raises TswrenOperatorError: ``TSWREN_BAD_INPUT`` when the value is not JSON.
    """
    try:
        return json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise bad(param, f"is not a JSON value ({err})",
                  "use lists, dicts, strings, numbers, booleans and None only") from err


def zip_iterdata(lists: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Build iterdata from upstream lists: item ``i`` is ``{param: lists[param][i], ...}``.

    :raises TswrenOperatorError: ``TSWREN_BAD_INPUT`` when an upstream value is not a list or
        the lists differ in length.
    """
    lengths = {}
    for param, values in lists.items():
        if not isinstance(values, list):
            raise bad("iterdata_from_task", f"parameter {param!r}: the upstream XCom is {type(values).__name__}, not a list",
                      "make the upstream task return a list")
        lengths[param] = len(values)
    if len(set(lengths.values())) > 1:
        raise bad("iterdata_from_task", f"upstream lists differ in length {lengths}", "return lists of equal length")
    count = next(iter(lengths.values()), 0)
    return [{param: lists[param][i] for param in lists} for i in range(count)]


def cli_options(options: Mapping[str, Any]) -> list[str]:
    """Turn ``{"--chunk-size": 4, "--clean-data": True, "--x": None}`` into argv (``None``/``False`` left out)."""
    argv: list[str] = []
    for flag, value in options.items():
        if value is None or value is False:
            continue
        if value is True:
            argv.append(flag)
        elif isinstance(value, (list, tuple)):
            argv += [flag, ",".join(value)]
        elif isinstance(value, dict):
            argv += [flag, json.dumps(value)]
        else:
            argv += [flag, str(value)]
    return argv
