"""Monte Carlo estimate of pi with tswren: an Airflow task plans the batches, a tswren map-reduce
throws the darts as serverless calls, a last task reports the estimate.

The functions are exports of jobs/montecarlo.ts (relative to this file's folder). The tswren
config comes from the ``tswren_default`` connection (or the tswren config file).
"""

from __future__ import annotations

import datetime

from airflow.sdk import dag, task

from tswren_airflow import TswrenMapReduceOperator


@dag(
    dag_id="tswren_monte_carlo",
    schedule=None,
    start_date=datetime.datetime(2026, 1, 1),
    catchup=False,
    params={"batches": 8, "samples_per_batch": 200_000},
    tags=["tswren", "example"],
)
def monte_carlo() -> None:
    @task
    def plan(params: dict | None = None) -> list[dict]:
        assert params is not None
        return [{"seed": seed, "samples": params["samples_per_batch"]} for seed in range(1, params["batches"] + 1)]

    estimate = TswrenMapReduceOperator(
        task_id="estimate_pi",
        map_function="jobs/montecarlo.ts#throwDarts",
        reduce_function="jobs/montecarlo.ts#estimatePi",
        iterdata_from_task="plan",
    )

    @task
    def report(result: dict) -> float:
        print(f"pi is about {result['pi']:.5f} ({result['samples']} samples)")
        return result["pi"]

    batches = plan()
    batches >> estimate
    report(estimate.output)


monte_carlo_dag = monte_carlo()
