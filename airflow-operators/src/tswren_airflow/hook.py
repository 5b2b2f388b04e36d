"""``TswrenHook``: the tswren configuration and command line of one Airflow connection."""

from __future__ import annotations

import json
import os
import shlex
import shutil
from typing import Any

from airflow.sdk import BaseHook

from tswren_airflow.errors import TswrenOperatorError

#: Keys of a connection's extra that configure the hook itself; every other key is a section of
#: the tswren config (``tswren``, ``localhost``, ``minio``, ``openwhisk``, ...).
HOOK_KEYS = ("tswren_command", "functions_root")

_SECRET_WORDS = ("secret", "password", "api_key", "apikey", "token", "private", "credential", "auth")


def _secret_values(node: Any, key: str = "") -> list[str]:
    """Values of the config whose key looks like a secret (``secret_access_key``, ``api_key``, ...)."""
    if isinstance(node, dict):
        return [v for k, child in node.items() for v in _secret_values(child, str(k))]
    if isinstance(node, list):
        return [v for child in node for v in _secret_values(child, key)]
    if isinstance(node, str) and node and any(w in key.lower() for w in _SECRET_WORDS):
        return [node]
    return []


def _mask(values: list[str]) -> None:
    """Register values with Airflow's secrets masker so task logs show ``***`` instead."""
    try:
        from airflow.sdk.log import mask_secret  # type: ignore[attr-defined]
    except ImportError:  # pragma: no cover - older task SDKs
        from airflow.sdk.execution_time.secrets_masker import mask_secret  # type: ignore[no-redef]
    for value in values:
        mask_secret(value)


class TswrenHook(BaseHook):
    """The tswren config and CLI of an Airflow connection (default ``tswren_default``).

    The connection's extra holds the tswren config as JSON sections, like the YAML config file
    (``{"tswren": {"backend": "localhost", "storage": "minio"}, "minio": {...}}``), plus two
    optional hook keys: ``tswren_command`` (the CLI to run, a string or a list; default: ``tswren``
    on ``PATH``) and ``functions_root`` (the folder function modules resolve from). The config
    reaches the CLI in the ``TSWREN_CONFIG`` environment variable, never on the command line, and
    its secret values are registered with Airflow's secrets masker. Without the default
    connection the tswren config file applies (``$TSWREN_CONFIG_FILE``, ``~/.tswren/config``).

    :param conn_id: the connection id; a missing non-default connection is an error.
    """

    conn_name_attr = "conn_id"
    default_conn_name = "tswren_default"
    conn_type = "tswren"
    hook_name = "tswren"

    def __init__(self, conn_id: str = default_conn_name) -> None:
        super().__init__()
        self.conn_id = conn_id
        self._extra: dict[str, Any] | None = None

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Only the extra field matters in the connection form."""
        return {
            "hidden_fields": ["host", "schema", "login", "password", "port"],
            "relabeling": {"extra": "tswren config (JSON sections) + tswren_command, functions_root"},
            "placeholders": {"extra": json.dumps({"tswren": {"backend": "localhost"}})},
        }

    def extra(self) -> dict[str, Any]:
        """The connection's extra as a dict (empty without the default connection).

        :raises TswrenOperatorError: ``TSWREN_BAD_INPUT`` for a missing non-default connection
            or an extra that is not a JSON object.
        """
        if self._extra is not None:
            return self._extra
        try:
            conn = self.get_connection(self.conn_id)
        except Exception as err:  # AirflowNotFoundException and the task SDK's variant
            if self.conn_id != self.default_conn_name:
                raise TswrenOperatorError(
                    "TSWREN_BAD_INPUT",
                    f"conn_id {self.conn_id!r}: no such Airflow connection ({type(err).__name__}); create it "
                    f"(AIRFLOW_CONN_{self.conn_id.upper()} or the UI) or leave conn_id out",
                ) from err
            self._extra = {}
            return self._extra
        extra = conn.extra_dejson
        if not isinstance(extra, dict):
            raise TswrenOperatorError("TSWREN_BAD_INPUT", f"connection {self.conn_id!r}: extra must be a JSON object")
        self._extra = extra
        return extra

    def config(self, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        """The tswren config sections of the connection, with ``overrides`` merged per section."""
        sections = {k: v for k, v in self.extra().items() if k not in HOOK_KEYS}
        for section, values in (overrides or {}).items():
            if isinstance(values, dict) and isinstance(sections.get(section), dict):
                sections[section] = {**sections[section], **values}
            else:
                sections[section] = values
        return sections

    def command(self) -> list[str]:
        """The tswren CLI as argv: ``tswren_command`` of the extra, else ``tswren`` on PATH.

        :raises TswrenOperatorError: ``TSWREN_BAD_INPUT`` when no tswren command is found.
        """
        configured = self.extra().get("tswren_command")
        if configured:
            argv = shlex.split(configured) if isinstance(configured, str) else [str(a) for a in configured]
            return argv
        found = shutil.which("tswren")
        if found is None:
            raise TswrenOperatorError(
                "TSWREN_BAD_INPUT",
                "the tswren command is not on PATH; install it (npm install -g tswren, or install.sh) "
                f"or set \"tswren_command\" in the extra of connection {self.conn_id!r}",
            )
        return [found]

    def functions_root(self) -> str | None:
        """The ``functions_root`` of the extra, if any."""
        root = self.extra().get("functions_root")
        return str(root) if root else None

    def environment(self, overrides: dict[str, Any] | None = None) -> dict[str, str]:
        """The CLI's environment: this process's, plus ``TSWREN_CONFIG`` when there is config."""
        env = dict(os.environ)
        config = self.config(overrides)
        if config:
            _mask(_secret_values(config))
            env["TSWREN_CONFIG"] = json.dumps(config)
        return env
