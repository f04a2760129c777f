"""No credential leaks: after real runs of both DAGs, the S3 keys appear in no log line, XCom value, run
report, article, state object or digest."""

from __future__ import annotations

import json

from pipeline.storage.credentials import read_credentials
from tests.support.airflow import DagRuns


def test_credentials_never_leave_the_connection(seed_runs: DagRuns) -> None:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    creds = read_credentials(seed_runs.settings.local_dir)
    assert creds is not None
    secrets = [creds.secret_access_key.get_secret_value(), creds.access_key_id]
    ingest, digest, store = seed_runs.ingest, seed_runs.digest, seed_runs.store
    assert (ingest.state, digest.state) == ("success", "success")

    logs = seed_runs.output
    assert "Done. Returned value was" in logs  # the task logs were captured
    with create_session() as session:
        xcoms = [
            json.dumps(row.value)
            for row in session.query(XComModel).filter(XComModel.run_id.in_([ingest.run_id, digest.run_id]))
        ]
    assert xcoms
    objects = {key: store.get_bytes(key).decode(errors="replace") for key in store.list_keys("")}
    assert any(k.startswith("runs/") for k in objects) and any(k.startswith("digests/") for k in objects)
    for secret in secrets:
        assert secret not in logs
        assert not [x for x in xcoms if secret in x]
        assert not [key for key, body in objects.items() if secret in body]
