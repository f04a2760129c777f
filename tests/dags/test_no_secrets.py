"""No credential leaks: after real runs of both DAGs, the S3 keys appear in no log line, XCom value, run
report, article, state object or digest."""

from __future__ import annotations

import json

import pytest

from pipeline.seaweed import read_credentials
from pipeline.settings import Settings
from pipeline.storage import ObjectStore
from tests.support.airflow import dagbag
from tests.support.sources import seed_documents


def test_credentials_never_leave_the_connection(
    airflow_db: None, airflow_env: Settings, store: ObjectStore, capfd: pytest.CaptureFixture[str]
) -> None:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    creds = read_credentials(airflow_env.local_dir)
    assert creds is not None
    secrets = [creds.secret_access_key.get_secret_value(), creds.access_key_id]
    seed_documents(airflow_env, "seed-kamikawa.txt", source_id="seed-articles")
    bag = dagbag()
    ingest = bag.dags["news_ingest"].test()
    digest = bag.dags["news_digest"].test(run_conf={"date": "2024-01-07"})
    assert (ingest.state, digest.state) == ("success", "success")

    logs = capfd.readouterr()
    assert "Done. Returned value was" in logs.out + logs.err  # the task logs were captured
    with create_session() as session:
        xcoms = [
            json.dumps(row.value)
            for row in session.query(XComModel).filter(XComModel.run_id.in_([ingest.run_id, digest.run_id]))
        ]
    assert xcoms
    objects = {key: store.get_bytes(key).decode(errors="replace") for key in store.list_keys("")}
    assert any(k.startswith("runs/") for k in objects) and any(k.startswith("digests/") for k in objects)
    for secret in secrets:
        assert secret not in logs.out + logs.err
        assert not [x for x in xcoms if secret in x]
        assert not [key for key, body in objects.items() if secret in body]
