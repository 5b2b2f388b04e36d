"""The tswren operators in a real Airflow 3 (``dag.test()`` / ``airflow dags test`` on SQLite),
running real tswren jobs on local worker processes (and MinIO storage)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from conftest import PACKAGE_DIR, cli_argv, task_states, xcoms
from tswren_airflow import TswrenCallAsyncOperator, TswrenMapOperator, TswrenMapReduceOperator, TswrenOperatorError

OPERATORS_DAG = '''
import datetime
from airflow.sdk import DAG, task
from tswren_airflow import TswrenCallAsyncOperator, TswrenMapOperator, TswrenMapReduceOperator

J = "jobs/testjobs.ts#"
with DAG("tswren_operators", schedule=None, start_date=datetime.datetime(2026, 1, 1)) as dag:
    @task
    def numbers():
        return [1, 2, 3, 4]

    @task
    def ys():
        return [10, 20, 30, 40]

    @task
    def label():
        return "sum"

    @task
    def settings():
        return {"not": "a list"}

    nums, y, name, cfg = numbers(), ys(), label(), settings()
    nums >> TswrenMapOperator(task_id="squares", map_function=J + "square", iterdata_from_task="numbers")
    [nums, y] >> TswrenMapOperator(task_id="adds", map_function=J + "add", iterdata_from_task={"x": "numbers", "y": "ys"})
    TswrenMapOperator(task_id="extra", map_function=J + "add", map_iterdata=[{"x": 1}, {"x": 2}], extra_args={"y": 100})
    name >> TswrenCallAsyncOperator(task_id="describe", func=J + "describe", data={"values": [1, 2]}, data_from_task={"name": "label"})
    TswrenCallAsyncOperator(task_id="env", func=J + "readEnv", data="TSWREN_AIRFLOW_MODE",
                            extra_env={"TSWREN_AIRFLOW_MODE": "{{ dag.dag_id }}-fast"})
    nums >> TswrenMapReduceOperator(task_id="total", map_function=J + "square", reduce_function=J + "total",
                                    iterdata_from_task="numbers")
    TswrenMapOperator(task_id="reference", map_function=J + "square", map_iterdata=[5], fetch_result=False)
    cfg >> TswrenMapOperator(task_id="bad_upstream", map_function=J + "square", iterdata_from_task="settings")
'''

FAILING_DAG = '''
import datetime
from airflow.sdk import DAG
from tswren_airflow import TswrenMapOperator

with DAG("tswren_failing", schedule=None, start_date=datetime.datetime(2026, 1, 1)) as dag:
    TswrenMapOperator(task_id="fails", map_function="jobs/testjobs.ts#failOnTwo", map_iterdata=[1, 2, 3])
    TswrenMapOperator(task_id="no_export", map_function="jobs/testjobs.ts#nope", map_iterdata=[1])
'''


def test_each_operator_runs_a_real_job_with_upstream_xcom_in_and_its_result_as_xcom(
    dag_file: Any, localhost_conn: dict[str, Any], storage_root: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    dag = dag_file("tswren_operators.py", OPERATORS_DAG).dag
    run = dag.test()
    states = task_states(run)
    out = capfd.readouterr()
    log = out.out + out.err
    got = xcoms("tswren_operators", run.run_id)
    assert {t: s for t, s in states.items() if t != "bad_upstream"} == {t: "success" for t in states if t != "bad_upstream"}, log[-4000:]
    assert got["squares"] == [1, 4, 9, 16]
    assert got["adds"] == [11, 22, 33, 44]
    assert got["extra"] == [101, 102]
    assert got["describe"] == "sum: 1+2 = 3"
    assert got["env"] == "tswren_operators-fast"
    assert got["total"] == 30
    ref = got["reference"]
    assert ref["tswren"] == "job" and ref["calls"] == 1 and ref["state"] == "done"
    # Call statuses on localhost are batched per job (<job>/statuses/<n>.gz); older layouts had a status.json per call.
    kept = [p for p in storage_root.rglob("*") if p.is_file() and ref["executorId"] in str(p) and ("statuses" in p.parts or p.name == "status.json")]
    assert kept, "fetch_result=False keeps the job data"
    # a bad upstream value fails only that task, with a coded error naming the parameter
    assert states["bad_upstream"] == "failed"
    assert "TSWREN_BAD_INPUT: iterdata_from_task task" in log and "returned dict, not a list" in log
    # the CLI's progress (stderr) is in the task log
    assert "calls submitted" in log


def test_a_failing_function_fails_the_dag_with_the_remote_error_in_the_log(dag_file: Any, localhost_conn: dict[str, Any]) -> None:
    dag_file("tswren_failing.py", FAILING_DAG)
    done = subprocess.run([sys.executable, "-m", "airflow", "dags", "test", "tswren_failing"],
                          capture_output=True, text=True, timeout=900, env=os.environ.copy())
    log = done.stdout + done.stderr
    assert done.returncode == 1, log[-4000:]
    assert "TSWREN_REMOTE_FUNCTION" in log and "RangeError: cannot take 2" in log
    assert 'TSWREN_BAD_INPUT: module jobs/testjobs.ts has no exported function "nope"' in log


def test_word_count_example_dag_over_a_minio_bucket_never_logs_the_secret(
    dag_file: Any, connection: Any, minio: dict[str, str], capfd: pytest.CaptureFixture[str]
) -> None:
    connection({
        "tswren_command": cli_argv(),
        "tswren": {"backend": "localhost", "storage": "minio", "storage_bucket": minio["bucket"]},
        "localhost": {"worker_processes": 2},
        "minio": {"endpoint": minio["endpoint"], "access_key_id": minio["accessKey"], "secret_access_key": minio["secretKey"]},
    })
    source = (PACKAGE_DIR / "example_dags" / "wordcount.py").read_text(encoding="utf-8")
    dag = dag_file("wordcount.py", source).wordcount_dag
    run = dag.test(run_conf={"input": f"s3://{minio['bucket']}/words/"})
    out = capfd.readouterr()
    log = out.out + out.err
    assert str(run.state) == "success", log[-4000:]
    result = xcoms("tswren_wordcount", run.run_id)
    # test/integration/airflow.test.ts seeds words/a.txt "the cat the dog" and words/b.txt "a dog\n"
    assert result["count_words"] == {"total": 6, "counts": {"the": 2, "cat": 1, "dog": 2, "a": 1}}
    assert result["top_words"] == [["dog", 2], ["the", 2], ["a", 1], ["cat", 1]]
    assert minio["secretKey"] not in log
    assert minio["secretKey"] not in json.dumps(result)


def test_monte_carlo_example_dag_estimates_pi(dag_file: Any, localhost_conn: dict[str, Any]) -> None:
    source = (PACKAGE_DIR / "example_dags" / "monte_carlo.py").read_text(encoding="utf-8")
    dag = dag_file("monte_carlo.py", source).monte_carlo_dag
    run = dag.test(run_conf={"batches": 4, "samples_per_batch": 50_000})
    result = xcoms("tswren_monte_carlo", run.run_id)
    assert str(run.state) == "success"
    assert result["estimate_pi"]["samples"] == 200_000
    assert abs(result["report"] - 3.14159) < 0.02


def test_on_kill_sends_sigterm_and_the_job_is_cancelled(localhost_conn: dict[str, Any], storage_root: Path) -> None:
    submitted = threading.Event()

    class Watched(TswrenMapOperator):
        def log_line(self, line: str) -> None:
            super().log_line(line)
            if "calls submitted" in line:
                submitted.set()

    op = Watched(task_id="hangs", map_function="jobs/testjobs.ts#hang", map_iterdata=[1, 2],
                 functions_root=str(Path(__file__).parent))
    outcome: dict[str, BaseException] = {}

    def run() -> None:
        try:
            op.execute({})
        except BaseException as err:  # noqa: BLE001 - the assertion below says what it must be
            outcome["error"] = err

    worker = threading.Thread(target=run)
    worker.start()
    assert submitted.wait(timeout=300), "the job was never submitted"
    op.on_kill()
    worker.join(timeout=120)
    assert not worker.is_alive()
    err = outcome.get("error")
    assert isinstance(err, TswrenOperatorError) and err.code == "TSWREN_CANCELLED", repr(err)


def test_bad_arguments_are_coded_errors_before_anything_runs(localhost_conn: dict[str, Any], storage_root: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(TswrenOperatorError, match=r"TSWREN_BAD_INPUT: func is the Python callable 'len', which cannot run in Node"):
        TswrenCallAsyncOperator(task_id="a", func=len)
    with pytest.raises(TswrenOperatorError, match=r"map_iterdata and iterdata_from_task: give exactly one"):
        TswrenMapOperator(task_id="b", map_function="jobs/x.ts#f")
    with pytest.raises(TswrenOperatorError, match=r"chunk_size must be an integer >= 1, got 0"):
        TswrenMapOperator(task_id="c", map_function="jobs/x.ts#f", map_iterdata=[], chunk_size=0)
    with pytest.raises(TswrenOperatorError, match=r"reduce_function must be a string"):
        TswrenMapReduceOperator(task_id="d", map_function="jobs/x.ts#f", map_iterdata=[1], reduce_function=3)
    root = str(Path(__file__).parent)
    with pytest.raises(TswrenOperatorError, match=r"map_iterdata is not a JSON value"):
        TswrenMapOperator(task_id="e", map_function="jobs/testjobs.ts#square", map_iterdata=[{1, 2}], functions_root=root).execute({})
    with pytest.raises(TswrenOperatorError, match=r"conn_id 'nope': no such Airflow connection"):
        TswrenMapOperator(task_id="f", map_function="jobs/testjobs.ts#square", map_iterdata=[1], conn_id="nope",
                          functions_root=root).execute({})
    monkeypatch.delenv("AIRFLOW_CONN_TSWREN_DEFAULT")
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(TswrenOperatorError, match=r"the tswren command is not on PATH"):
        TswrenMapOperator(task_id="g", map_function="jobs/testjobs.ts#square", map_iterdata=[1], functions_root=root).execute({})
    assert list(storage_root.rglob("*")) == []


def test_the_tswren_command_on_path_is_used_without_a_configured_command(
    connection: Any, storage_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    node, cli = cli_argv()
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "tswren").symlink_to(cli)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{Path(node).parent}{os.pathsep}{os.environ['PATH']}")
    connection({"localhost_storage": {"storage_root": str(storage_root)}})
    op = TswrenCallAsyncOperator(task_id="one", func="jobs/testjobs.ts#square", data=12, functions_root=str(Path(__file__).parent))
    assert op.execute({}) == 144


def test_the_provider_entry_point_registers_the_tswren_connection_type() -> None:
    import tomllib

    from tswren_airflow import get_provider_info

    meta = tomllib.loads((PACKAGE_DIR / "pyproject.toml").read_text(encoding="utf-8"))
    assert meta["project"]["entry-points"]["apache_airflow_provider"] == {"provider_info": "tswren_airflow:get_provider_info"}
    info = get_provider_info()
    assert info["package-name"] == meta["project"]["name"] == "tswren-airflow"
    assert info["connection-types"] == [{"connection-type": "tswren", "hook-class-name": "tswren_airflow.hook.TswrenHook"}]
