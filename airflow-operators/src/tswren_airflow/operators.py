"""Airflow 3 operators that run tswren jobs: call-async, map and map-reduce.

Each operator runs one ``tswren call-async|map|map-reduce`` command (see the repository's
docs/cli.md), streams its stderr (progress, the calls' logs, errors) to the task log, and returns
the parsed last stdout line, which Airflow stores as the task's XCom ``return_value``.
"""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any, Sequence

from airflow.sdk import BaseOperator

from tswren_airflow import arguments as a
from tswren_airflow.errors import TswrenOperatorError
from tswren_airflow.hook import TswrenHook
from tswren_airflow.process import JobOutcome, JobProcess


class TswrenBaseOperator(BaseOperator):
    """What the tswren operators share; use one of the subclasses.

    :param executor_config: tswren config sections merged over the connection's (like the config
        file: ``{"tswren": {"backend": "localhost"}, "localhost": {"worker_processes": 2}}``).
        Note: this replaces Airflow's own ``executor_config`` (pod overrides) for these operators.
    :param wait_for_result: wait for the calls to end (``False``: return the job reference right
        after submission; serverless backends only)
    :param fetch_result: return the results (``False``: wait, then return the JSON job reference
        and keep the job's data)
    :param clean_data: delete the job's data from storage after reading its results
    :param extra_env: environment variables of the function (templated)
    :param runtime_memory: memory per call, MB
    :param timeout: seconds a call may run
    :param include_modules: the only npm packages the function's module may bundle
    :param exclude_modules: npm packages left out of the bundle
    :param conn_id: the Airflow connection holding the tswren config (default ``tswren_default``)
    :param functions_root: folder the function modules resolve from (default: the connection's
        ``functions_root``, else the DAG file's folder)
    :param max_result_bytes: results whose JSON is larger are stored in object storage and the
        XCom holds a ``{"tswren": "stored-result", ...}`` reference (CLI default 1 MiB)
    """

    template_fields: Sequence[str] = ("extra_env",)
    template_fields_renderers = {"extra_env": "json"}
    ui_color = "#ffe9a8"
    #: the CLI command this operator runs
    command_name = ""

    def __init__(
        self,
        *,
        executor_config: dict[str, Any] | None = None,
        wait_for_result: bool = True,
        fetch_result: bool = True,
        clean_data: bool = False,
        extra_env: dict[str, str] | None = None,
        runtime_memory: int | None = None,
        timeout: int | None = None,
        include_modules: list[str] | None = None,
        exclude_modules: list[str] | None = None,
        conn_id: str = TswrenHook.default_conn_name,
        functions_root: str | None = None,
        max_result_bytes: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.tswren_config = a.check_mapping("executor_config", executor_config)
        self.wait_for_result = bool(wait_for_result)
        self.fetch_result = bool(fetch_result)
        self.clean_data = bool(clean_data)
        self.extra_env = extra_env if isinstance(extra_env, str) else a.check_mapping("extra_env", extra_env, str_values=True)
        self.runtime_memory = a.check_positive_int("runtime_memory", runtime_memory)
        self.timeout = a.check_positive_int("timeout", timeout)
        self.include_modules = a.check_names("include_modules", include_modules)
        self.exclude_modules = a.check_names("exclude_modules", exclude_modules)
        self.conn_id = conn_id
        self.functions_root = functions_root
        self.max_result_bytes = a.check_positive_int("max_result_bytes", max_result_bytes)
        self._job: JobProcess | None = None

    # -- what subclasses provide -------------------------------------------------------------

    def job_options(self, context: Any, workdir: str) -> dict[str, Any]:
        """The command's own options (function, inputs); ``workdir`` is for input files."""
        raise NotImplementedError

    # -- the run -------------------------------------------------------------------------------

    def _common_options(self) -> dict[str, Any]:
        return {
            "--extra-env": a.check_mapping("extra_env", self.extra_env, str_values=True),
            "--runtime-memory": self.runtime_memory,
            "--timeout": self.timeout,
            "--include-modules": self.include_modules,
            "--exclude-modules": self.exclude_modules,
            "--no-fetch-result": not self.fetch_result,
            "--no-wait": not self.wait_for_result,
            "--clean-data": self.clean_data,
            "--max-result-bytes": self.max_result_bytes,
        }

    def _root(self, hook: TswrenHook) -> str:
        root = self.functions_root or hook.functions_root()
        if root:
            return os.path.abspath(os.path.expanduser(root))
        fileloc = getattr(self.dag, "fileloc", None) if self.has_dag() else None
        if not fileloc:
            raise a.bad("functions_root", "is not set and the operator has no DAG file",
                        "pass functions_root=... or set functions_root in the connection's extra")
        return os.path.dirname(os.path.abspath(fileloc))

    def execute(self, context: Any) -> Any:
        """Run the job; return its result (or job reference), which becomes the XCom.

        :raises TswrenOperatorError: bad arguments (before anything runs), or the CLI's error
            (``TSWREN_REMOTE_FUNCTION`` for a failing call) when it exits non-zero.
        """
        hook = TswrenHook(self.conn_id)
        with tempfile.TemporaryDirectory(prefix="tswren-airflow-") as workdir:
            options = {**self.job_options(context, workdir), **self._common_options(), "--root": self._root(hook)}
            argv = [*hook.command(), self.command_name, *a.cli_options(options)]
            env = hook.environment(self.tswren_config)
            self.log.info("running tswren %s %s (root %s)", self.command_name, options.get("--module"), options["--root"])
            self._job = JobProcess(argv, env, workdir, self.log, self.log_line)
            outcome = self._job.run()
        return self._result(outcome)

    def log_line(self, line: str) -> None:
        """Write one stderr line of the tswren process (progress, call logs, errors) to the task log."""
        self.log.info("%s", line)

    def _result(self, outcome: JobOutcome) -> Any:
        if outcome.returncode != 0:
            last = next((line for line in reversed(outcome.stderr_tail) if line.strip()), "")
            code = "TSWREN_JOB_FAILED"
            detail = last.removeprefix("tswren: ")
            if ":" in detail and detail.split(":", 1)[0].startswith("TSWREN_"):
                code, detail = (part.strip() for part in detail.split(":", 1))
            raise TswrenOperatorError(code, f"tswren {self.command_name} exited with {outcome.returncode}: {detail} "
                                            "(the task log above has the calls' logs and remote stack)")
        lines = [line for line in outcome.stdout.splitlines() if line.strip()]
        if not lines:
            raise TswrenOperatorError("TSWREN_PROTOCOL", f"tswren {self.command_name} printed no result line on stdout")
        try:
            return json.loads(lines[-1])
        except ValueError as err:
            raise TswrenOperatorError("TSWREN_PROTOCOL", f"the last stdout line of tswren {self.command_name} is not JSON") from err

    def on_kill(self) -> None:
        """Cancel the running job: SIGTERM to the tswren process, which cancels its calls."""
        if self._job is not None:
            self._job.terminate()


def _input_file(workdir: str, name: str, param: str, value: Any) -> str:
    """Write a JSON value to ``workdir/name`` and return the CLI's ``@file`` argument."""
    path = os.path.join(workdir, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(a.to_json(param, value))
    return f"@{path}"


def _xcom(context: Any, task_id: str, param: str) -> Any:
    ti = context["ti"]
    value = ti.xcom_pull(task_ids=task_id)
    if value is None:
        raise a.bad(param, f"task {task_id!r} has no XCom return_value",
                    "make sure that task is upstream of this one and returns a value")
    return value


class TswrenCallAsyncOperator(TswrenBaseOperator):
    """Run one call of a module's exported function: ``tswren call-async``.

    :param func: ``"<module file>#<export>"``, e.g. ``"jobs/pi.ts#estimate"``
    :param data: the call's input, a JSON value (templated)
    :param data_from_task: ``{parameter: task_id}``: ``data[parameter]`` is that task's XCom
        (``data`` must then be a dict or left out)
    """

    template_fields: Sequence[str] = ("data", "extra_env")
    template_fields_renderers = {"data": "json", "extra_env": "json"}
    command_name = "call-async"

    def __init__(self, *, func: str, data: Any = None, data_from_task: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.func = a.check_function_ref("func", func)
        self.data = data
        self.data_from_task = a.check_mapping("data_from_task", data_from_task, str_values=True)
        if self.data_from_task and data is not None and not isinstance(data, dict):
            raise a.bad("data", "must be a dict (or left out) when data_from_task is set", "pass data={} or a dict")

    def job_options(self, context: Any, workdir: str) -> dict[str, Any]:
        data = self.data
        if self.data_from_task:
            if data is not None and not isinstance(data, dict):
                raise a.bad("data", "must render to a dict when data_from_task is set", "pass a dict")
            data = {**(data or {}), **{p: _xcom(context, t, "data_from_task") for p, t in self.data_from_task.items()}}
        return {"--module": self.func, "--data": _input_file(workdir, "data.json", "data", data)}


class TswrenMapOperator(TswrenBaseOperator):
    """Run a module's exported function over every input: ``tswren map``.

    :param map_function: ``"<module file>#<export>"``
    :param map_iterdata: the inputs: a JSON list, or a storage URL string (``"s3://bucket/prefix/"``)
        or list of URLs for a data job (templated)
    :param iterdata_from_task: a task id whose XCom is the list of inputs, or
        ``{parameter: task_id}``: input ``i`` is ``{parameter: xcom[i], ...}``
    :param extra_args: a dict merged into every (dict) input (templated)
    :param chunk_size: data jobs: bytes per part
    :param chunk_n: data jobs: parts per object
    :param remote_invocation: invoke the calls from inside the platform (OpenWhisk)
    """

    template_fields: Sequence[str] = ("map_iterdata", "extra_args", "extra_env")
    template_fields_renderers = {"map_iterdata": "json", "extra_args": "json", "extra_env": "json"}
    command_name = "map"

    def __init__(
        self,
        *,
        map_function: str,
        map_iterdata: Any = None,
        iterdata_from_task: str | dict[str, str] | None = None,
        extra_args: dict[str, Any] | None = None,
        chunk_size: int | None = None,
        chunk_n: int | None = None,
        remote_invocation: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.map_function = a.check_function_ref("map_function", map_function)
        if (map_iterdata is None) == (iterdata_from_task is None):
            raise a.bad("map_iterdata", "and iterdata_from_task: give exactly one of them",
                        "pass the inputs as map_iterdata=[...] or name the upstream task in iterdata_from_task")
        self.map_iterdata = map_iterdata
        self.iterdata_from_task = a.check_iterdata_from_task(iterdata_from_task)
        self.extra_args = extra_args if isinstance(extra_args, str) else a.check_mapping("extra_args", extra_args)
        self.chunk_size = a.check_positive_int("chunk_size", chunk_size)
        self.chunk_n = a.check_positive_int("chunk_n", chunk_n)
        self.remote_invocation = bool(remote_invocation)

    def _iterdata(self, context: Any) -> Any:
        source = self.iterdata_from_task
        if source is None:
            return self.map_iterdata
        if isinstance(source, str):
            value = _xcom(context, source, "iterdata_from_task")
            if not isinstance(value, (list, str)):
                raise a.bad("iterdata_from_task", f"task {source!r} returned {type(value).__name__}, not a list",
                            "make it return the list of inputs (or a storage URL)")
            return value
        return a.zip_iterdata({p: _xcom(context, t, "iterdata_from_task") for p, t in source.items()})

    def job_options(self, context: Any, workdir: str) -> dict[str, Any]:
        iterdata = self._iterdata(context)
        if not isinstance(iterdata, (list, str)):
            raise a.bad("map_iterdata", f"must be a list of inputs or a storage URL string, got {type(iterdata).__name__}",
                        'pass e.g. [1, 2, 3] or "s3://bucket/prefix/"')
        return {
            "--module": self.map_function,
            "--iterdata": _input_file(workdir, "iterdata.json", "map_iterdata", iterdata),
            "--extra-args": a.check_mapping("extra_args", self.extra_args),
            "--chunk-size": self.chunk_size,
            "--chunk-n": self.chunk_n,
            "--remote-invocation": self.remote_invocation,
        }


class TswrenMapReduceOperator(TswrenMapOperator):
    """Map, then reduce the map results: ``tswren map-reduce``.

    Takes every :class:`TswrenMapOperator` parameter, and:

    :param reduce_function: ``"<module file>#<export>"`` of the reducer (it gets the list of map
        results)
    :param reducer_one_per_object: data jobs: one reducer per object (the XCom is then a list)
    :param reducer_wait_local: wait for the map results here before starting the reducer
    """

    command_name = "map-reduce"

    def __init__(self, *, reduce_function: str, reducer_one_per_object: bool = False,
                 reducer_wait_local: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.reduce_function = a.check_function_ref("reduce_function", reduce_function)
        self.reducer_one_per_object = bool(reducer_one_per_object)
        self.reducer_wait_local = bool(reducer_wait_local)

    def job_options(self, context: Any, workdir: str) -> dict[str, Any]:
        return {
            **super().job_options(context, workdir),
            "--reduce-module": self.reduce_function,
            "--reducer-one-per-object": self.reducer_one_per_object,
            "--reducer-wait-local": self.reducer_wait_local,
        }


__all__ = ["TswrenBaseOperator", "TswrenCallAsyncOperator", "TswrenMapOperator", "TswrenMapReduceOperator", "TswrenOperatorError"]
