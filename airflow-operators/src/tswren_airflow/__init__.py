"""tswren-airflow: Apache Airflow 3 operators that run tswren jobs through the tswren CLI.

Functions are exported functions of JavaScript/TypeScript modules, named ``"module#export"``
(a Python callable cannot run in Node). See README.md and the repository's docs/airflow.md.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = [
    "TswrenCallAsyncOperator",
    "TswrenHook",
    "TswrenMapOperator",
    "TswrenMapReduceOperator",
    "TswrenOperatorError",
    "get_provider_info",
]


def get_provider_info() -> dict[str, Any]:
    """Provider metadata for Airflow's ``apache_airflow_provider`` entry point (registers the
    ``tswren`` connection type so it appears in the UI)."""
    return {
        "package-name": "tswren-airflow",
        "name": "tswren",
        "description": "Run tswren jobs (map, call-async, map-reduce over serverless functions) from DAGs.",
        "versions": [__version__],
        "connection-types": [{"connection-type": "tswren", "hook-class-name": "tswren_airflow.hook.TswrenHook"}],
        "operators": [{"integration-name": "tswren", "python-modules": ["tswren_airflow.operators"]}],
        "hooks": [{"integration-name": "tswren", "python-modules": ["tswren_airflow.hook"]}],
    }


def __getattr__(name: str) -> Any:
    # Lazy so that the provider entry point does not import Airflow's task SDK.
    if name == "TswrenHook":
        from tswren_airflow.hook import TswrenHook

        return TswrenHook
    if name == "TswrenOperatorError":
        from tswren_airflow.errors import TswrenOperatorError

        return TswrenOperatorError
    if name in ("TswrenCallAsyncOperator", "TswrenMapOperator", "TswrenMapReduceOperator"):
        from tswren_airflow import operators

        return getattr(operators, name)
    raise AttributeError(f"module 'tswren_airflow' has no attribute {name!r}")
