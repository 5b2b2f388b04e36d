"""Word count over every object under a bucket prefix with tswren: one serverless call per part
of each object (``chunk_size`` splits large objects), a reducer merges the counts.

Run with ``airflow dags test tswren_wordcount -c '{"input": "s3://my-bucket/texts/"}'``. The
tswren config (storage backend and credentials) comes from the ``tswren_default`` connection.
"""

from __future__ import annotations

import datetime

from airflow.sdk import dag, task

from tswren_airflow import TswrenMapReduceOperator


@dag(
    dag_id="tswren_wordcount",
    schedule=None,
    start_date=datetime.datetime(2026, 1, 1),
    catchup=False,
    params={"input": "s3://tswren-data/texts/"},
    tags=["tswren", "example"],
)
def wordcount() -> None:
    counts = TswrenMapReduceOperator(
        task_id="count_words",
        map_function="jobs/wordcount.ts#countWords",
        reduce_function="jobs/wordcount.ts#mergeCounts",
        map_iterdata="{{ params.input }}",
        chunk_size=1 << 20,
    )

    @task
    def top_words(result: dict) -> list:
        top = [[word, n] for word, n in sorted(result["counts"].items(), key=lambda kv: (-kv[1], kv[0]))[:10]]
        print(f"{result['total']} words; most frequent: {top}")
        return top

    top_words(counts.output)


wordcount_dag = wordcount()
