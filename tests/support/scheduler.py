"""What the scheduler does, done by hand in the tests' metadata DB (DAGs in it, unpaused, and the partitioned
runs it creates from pending partitions), and what it recorded (asset events, runs, why a try was retried)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def sync_dags() -> None:
    """Write the DAGs folder's DAGs to the metadata DB, as the dag-processor (and `dag.test()`) does."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import BundleDagBag, sync_bag_to_db

    manager = DagBundlesManager()
    manager.sync_bundles_to_db()
    for bundle in manager.get_all_dag_bundles():
        if not bundle.is_initialized:
            bundle.initialize()
        bag = BundleDagBag(dag_folder=bundle.path, bundle_path=bundle.path, bundle_name=bundle.name)
        sync_bag_to_db(bag, bundle.name, bundle.version)


@contextmanager
def unpaused(dag_id: str) -> Iterator[None]:
    """The DAG unpaused (a paused DAG gets no asset-triggered runs), paused again afterwards."""
    sync_dags()
    _set_paused(dag_id, paused=False)
    try:
        yield
    finally:
        _set_paused(dag_id, paused=True)


def _set_paused(dag_id: str, paused: bool) -> None:
    from airflow.models.dag import DagModel
    from airflow.utils.session import create_session
    from sqlalchemy import update

    with create_session() as session:
        session.execute(update(DagModel).where(DagModel.dag_id == dag_id).values(is_paused=paused))


def create_partitioned_runs() -> None:
    """One scheduler step: create a run for every pending partition whose asset condition is met."""
    from airflow.jobs.job import Job
    from airflow.jobs.scheduler_job_runner import SchedulerJobRunner
    from airflow.utils.session import create_session

    runner = SchedulerJobRunner(job=Job())
    with create_session() as session:
        runner._create_dagruns_for_partitioned_asset_dags(session)


def runs_by_partition(dag_id: str, keys: set[str]) -> dict[str, list[Any]]:
    """The DAG's runs whose partition key is one of `keys`, by key."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        found = session.scalars(select(DagRun).where(DagRun.dag_id == dag_id, DagRun.partition_key.in_(keys)))
        runs: dict[str, list[Any]] = {}
        for run in found:
            session.expunge(run)
            runs.setdefault(run.partition_key, []).append(run)
    return runs


def partition_events(asset_name: str, source_run_id: str) -> list[Any]:
    """The asset's events a run emitted (each with its partition key)."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        query = (
            select(AssetEvent)
            .join(AssetModel, AssetModel.id == AssetEvent.asset_id)
            .where(AssetModel.name == asset_name, AssetEvent.source_run_id == source_run_id)
        )
        events = list(session.scalars(query))
        for event in events:
            session.expunge(event)
    return events


def retry_reasons(run: Any) -> list[str]:
    """Why each retried try of the run was retried, as its retry policy said."""
    from airflow.models.taskinstancehistory import TaskInstanceHistory
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        query = select(TaskInstanceHistory.retry_reason).where(
            TaskInstanceHistory.dag_id == run.dag_id, TaskInstanceHistory.run_id == run.run_id
        )
        return [reason for reason in session.scalars(query) if reason]
