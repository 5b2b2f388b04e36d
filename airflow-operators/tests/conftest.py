"""Real Airflow 3 for the operator tests: a temporary AIRFLOW_HOME on SQLite, migrated once.

Run from the repository (npm test runs it through test/integration/airflow.test.ts, which also
starts MinIO):

    PY=$(test/services/airflow.sh install) && npm run build && $PY -m pytest airflow-operators

Environment read here:
    TSWREN_TEST_CLI       the tswren CLI as a JSON argv (default: node kernel-lib/bin/tswren.js)
    TSWREN_TEST_MINIO     JSON {endpoint, accessKey, secretKey, bucket} of a running MinIO with an
                          existing bucket holding the word-count inputs (tests needing it fail
                          without it, saying so)
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

TESTS_DIR = Path(__file__).resolve().parent
PACKAGE_DIR = TESTS_DIR.parent
REPO_DIR = PACKAGE_DIR.parent

# Airflow reads its home when first imported: set it before anything imports airflow.
_HOME = tempfile.mkdtemp(prefix="tswren-airflow-home-")
os.environ["AIRFLOW_HOME"] = _HOME
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(Path(_HOME) / "dags")
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"
os.environ.pop("TSWREN_CONFIG", None)
os.environ.pop("TSWREN_CONFIG_FILE", None)
os.environ.setdefault("PYTHONPATH", str(PACKAGE_DIR / "src"))


def pytest_configure(config: pytest.Config) -> None:
    """``airflow db migrate`` once, before any test imports the task SDK's models."""
    (Path(_HOME) / "dags").mkdir(exist_ok=True)
    done = subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"airflow db migrate failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_HOME, ignore_errors=True)


def cli_argv() -> list[str]:
    """The tswren CLI under test as argv."""
    configured = os.environ.get("TSWREN_TEST_CLI")
    if configured:
        return list(json.loads(configured))
    node = shutil.which("node")
    assert node, "node is not on PATH"
    cli = REPO_DIR / "kernel-lib" / "bin" / "tswren.js"
    assert (REPO_DIR / "kernel-lib" / "dist" / "cli.js").exists(), "kernel-lib is not built: run npm run build"
    return [node, str(cli)]


@pytest.fixture
def storage_root(tmp_path: Path) -> Path:
    """The localhost storage folder of one test."""
    root = tmp_path / "storage"
    root.mkdir()
    return root


@pytest.fixture
def connection(monkeypatch: pytest.MonkeyPatch) -> Callable[..., dict[str, Any]]:
    """Set the ``tswren_default`` connection (from the environment) to an extra; returns the extra."""

    def set_extra(extra: dict[str, Any], conn_id: str = "tswren_default") -> dict[str, Any]:
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({"conn_type": "generic", "extra": extra}))
        return extra

    return set_extra


@pytest.fixture
def localhost_conn(connection: Callable[..., dict[str, Any]], storage_root: Path) -> dict[str, Any]:
    """tswren on local worker processes with local storage in ``storage_root``."""
    return connection({
        "tswren_command": cli_argv(),
        "tswren": {"backend": "localhost", "storage": "localhost"},
        "localhost": {"worker_processes": 2},
        "localhost_storage": {"storage_root": str(storage_root)},
    })


@pytest.fixture
def minio() -> dict[str, str]:
    """The MinIO server npm test started (TSWREN_TEST_MINIO)."""
    raw = os.environ.get("TSWREN_TEST_MINIO")
    assert raw, ("TSWREN_TEST_MINIO is not set: run these tests through npm test "
                 "(test/integration/airflow.test.ts starts MinIO and seeds its bucket)")
    return json.loads(raw)


@pytest.fixture
def dag_file() -> Iterator[Callable[[str, str], Any]]:
    """Write a DAG file into Airflow's DAG folder (``dag.test()`` syncs DAGs from there), with
    the test job modules in ``jobs/``; yields a writer that imports the file and returns it as a
    module. The files are removed after the test."""
    folder = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    (folder / "jobs").mkdir(parents=True, exist_ok=True)
    for job in (TESTS_DIR / "jobs").glob("*.ts"):
        shutil.copy(job, folder / "jobs" / job.name)
    for job in (PACKAGE_DIR / "example_dags" / "jobs").glob("*.ts"):
        shutil.copy(job, folder / "jobs" / job.name)
    written: list[Path] = []

    def write(name: str, source: str) -> Any:
        path = folder / name
        path.write_text(source, encoding="utf-8")
        written.append(path)
        spec = importlib.util.spec_from_file_location(f"tswren_test_dag_{path.stem}", path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    yield write
    for path in written:
        path.unlink(missing_ok=True)


def xcoms(dag_id: str, run_id: str) -> dict[str, Any]:
    """The ``return_value`` XComs of a DAG run, by task id (read from Airflow's database)."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.query(XComModel).filter_by(dag_id=dag_id, run_id=run_id, key="return_value").all()
        return {row.task_id: row.value for row in rows}


def task_states(dag_run: Any) -> dict[str, str]:
    """Each task's final state in a DAG run."""
    return {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}
