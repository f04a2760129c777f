"""A rule's drop through `dag.test()` of news_ingest: the run report and the task's output both count it."""

from __future__ import annotations

import json

from pipeline.settings import Settings
from pipeline.storage.store import ObjectStore
from tests.support.airflow import dagbag
from tests.support.sources import seed_documents


def test_the_run_report_and_the_task_output_count_filtered_items(
    airflow_db: None, airflow_env: Settings, store: ObjectStore
) -> None:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    seed_documents(airflow_env, "seed-kamikawa.txt", "no-date-header.txt", source_id="seed-articles")
    registered = airflow_env.sources_file.read_text()
    rule = '[[rules]]\nname = "not-kyiv"\naction = "drop"\nfields = ["title"]\nwords = ["kyiv"]\n'
    airflow_env.sources_file.write_text(rule + registered)

    run = dagbag().dags["news_ingest"].test(run_conf={"sources": ["seed-articles"]})
    assert run.state == "success"
    [report_key] = list(store.list_keys("runs/news_ingest/"))
    report = json.loads(store.get_bytes(report_key))
    counts = {name: report[name] for name in ("read", "stored", "duplicates", "quarantined", "filtered")}
    assert counts == {"read": 2, "stored": 0, "duplicates": 0, "quarantined": 1, "filtered": 1}
    assert not list(store.list_keys("articles/"))
    with create_session() as session:
        [output] = [
            row.value
            for row in session.query(XComModel).filter(
                XComModel.dag_id == "news_ingest",
                XComModel.run_id == run.run_id,
                XComModel.task_id == "write_run_report",
                XComModel.key == "return_value",
            )
        ]
    assert {name: output[name] for name in counts} == counts
