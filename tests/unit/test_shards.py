from __future__ import annotations

from pathlib import Path

from pipeline.settings import Settings
from pipeline.stages import plan_shards


def registry(tmp_path: Path, hosts: list[str]) -> Settings:
    path = tmp_path / "sources.toml"
    path.write_text(
        "".join(f'[[sources]]\nid = "s{n}"\nkind = "feed"\nurl = "https://{h}/feed{n}"\n' for n, h in enumerate(hosts))
    )
    return Settings(sources_file=path, inbox_prefix="", max_shards=3)


def test_few_sources_get_a_shard_each(tmp_path: Path) -> None:
    assert plan_shards(registry(tmp_path, ["a.org", "b.org"])) == [["s0"], ["s1"]]


def test_a_hosts_sources_stay_together_and_shards_stay_balanced(tmp_path: Path) -> None:
    hosts = ["big.org"] * 4 + ["b.org", "c.org", "d.org", "e.org", "f.org"]
    shards = plan_shards(registry(tmp_path, hosts))
    assert len(shards) == 3
    assert ["s0", "s1", "s2", "s3"] in shards
    assert sorted(len(s) for s in shards) == [2, 3, 4]


def test_inbox_is_planned_as_its_own_source(tmp_path: Path) -> None:
    settings = registry(tmp_path, ["a.org"]).model_copy(update={"inbox_prefix": "inbox/"})
    assert plan_shards(settings) == [["inbox"], ["s0"]]


def test_named_sources_only(tmp_path: Path) -> None:
    assert plan_shards(registry(tmp_path, ["a.org", "b.org", "c.org"]), ["s2"]) == [["s2"]]
