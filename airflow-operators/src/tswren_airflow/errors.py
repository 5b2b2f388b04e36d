"""The one error type of tswren-airflow: a stable code and a message that names the fix."""

from __future__ import annotations

from airflow.exceptions import AirflowException


class TswrenOperatorError(AirflowException):
    """A tswren operator refused its input or its job failed.

    ``code`` is stable (the tswren CLI's codes where the CLI reported the failure, e.g.
    ``TSWREN_REMOTE_FUNCTION``; ``TSWREN_BAD_INPUT`` / ``TSWREN_BAD_OPTION`` for arguments the
    operator refused before running anything). ``str(err)`` is ``"<code>: <message>"``.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.detail = message
