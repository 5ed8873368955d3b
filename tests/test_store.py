"""The SQLite store: migrations, WAL, a fresh database, and refreshing the shipped knowledge."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from rolebot.kb.knowledge import import_files, open_store, refresh_shipped, shipped_paths
from rolebot.kb.records import load_records
from rolebot.store import store as store_module
from rolebot.store.schema import FAQ_KEYS, PASSAGE_KEYS, DailyRow, FaqRow, PassageRow, UnansweredRow
from rolebot.store.store import MIGRATIONS, Store
from tests.helpers.index import assert_index_counts_consistent

KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"


def _shipped_ids() -> dict[str, set[str]]:
    recs = load_records(shipped_paths(KNOWLEDGE))
    return {kind: {r.id for r in recs if r.kind == kind} for kind in ("faq", "passage")}


# -- migrations and connection ----------------------------------------------------------------------


def test_migrations_are_recorded(tmp_path: Path) -> None:
    s = Store(tmp_path / "m.db")
    names = [r["name"] for r in s.db["_migrations"].rows]
    assert names == [name for name, _ in MIGRATIONS]
    assert {"entries", "passages", "phrasings", "feedback", "unanswered", "meta"} <= set(s.db.table_names())
    s.close()


def test_migrations_are_not_reapplied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "m.db"
    s = Store(path)
    first = {r["name"]: r["applied_at"] for r in s.db["_migrations"].rows}
    s.close()

    calls: list[str] = []

    def m999_probe(db: object) -> None:
        calls.append("m999")

    # a new migration runs once on an old database; old ones (which would fail: tables exist) never again
    monkeypatch.setattr(store_module, "MIGRATIONS", [*MIGRATIONS, ("m999_probe", m999_probe)])
    s = Store(path)
    s.close()
    s = Store(path)
    again = {r["name"]: r["applied_at"] for r in s.db["_migrations"].rows}
    s.close()
    assert calls == ["m999"]
    assert set(again) == set(first) | {"m999_probe"}
    assert all(again[name] == first[name] for name in first)


def test_tables_the_migrations_build_match_the_record_schema(tmp_path: Path) -> None:
    # migrations keep their literal SQL as history; the schema module must still describe what they build
    s = Store(tmp_path / "s.db")
    columns = {t: list(s.db[t].columns_dict) for t in ("entries", "passages", "unanswered", "daily")}
    s.close()
    assert columns["entries"] == ["id", *FAQ_KEYS, "origin", "updated_at"]
    assert columns["passages"] == ["id", *PASSAGE_KEYS, "origin", "updated_at"]
    assert columns["unanswered"] == list(UnansweredRow.__annotations__)
    assert columns["daily"] == list(DailyRow.__annotations__)


def test_rows_read_back_have_exactly_the_schema_keys(store: Store) -> None:
    entry = store.topic_entries("marketing-vs-sales")[0]
    assert set(entry) == set(FaqRow.__annotations__)
    passage = next(r for r in store.iter_records() if r["kind"] == "passage")
    row = store.passage(passage["id"])
    assert row is not None and set(row) == set(PassageRow.__annotations__)


def test_wal_mode_is_on(tmp_path: Path) -> None:
    s = Store(tmp_path / "w.db")
    mode = s.db.execute("PRAGMA journal_mode").fetchone()[0]
    s.close()
    assert mode.lower() == "wal"
    assert (tmp_path / "w.db").exists()


def test_reopening_keeps_user_data(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    s = open_store(path)
    s.record_feedback("what-is-sales", "what-is-sales", 1, "private", "u1")
    s.close()
    s = open_store(path)
    assert s.feedback_by_topic() == [{"topic": "what-is-sales", "up": 1, "down": 0}]
    s.close()


# -- a new database ---------------------------------------------------------------------------------


def test_new_db_starts_with_shipped_knowledge(cli, tmp_path: Path) -> None:
    db = tmp_path / "sub" / "new.db"
    lines = cli.export(db)
    ids = _shipped_ids()
    exported = [json.loads(line) for line in lines]
    assert {r["id"] for r in exported if r["kind"] == "faq"} == ids["faq"]
    assert {r["id"] for r in exported if r["kind"] == "passage"} == ids["passage"]
    res = cli("ask", "营销和销售有什么区别", "--json", "--db", str(db))
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["topic"] == "marketing-vs-sales"


def test_open_store_is_idempotent(store: Store) -> None:
    before = store.counts()
    assert refresh_shipped(store) is False  # fingerprint unchanged: nothing to do
    assert store.counts() == before
    assert before["entries"] == len(_shipped_ids()["faq"])
    assert before["passages"] == len(_shipped_ids()["passage"])
    assert_index_counts_consistent(store)


# -- refreshing the shipped knowledge -----------------------------------------------------------------


@pytest.fixture
def knowledge_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of knowledge/ that ROLEBOT_KNOWLEDGE points at."""
    folder = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, folder)
    monkeypatch.setenv("ROLEBOT_KNOWLEDGE", str(folder))
    return folder


def _edit_yaml(path: Path, edit) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


IMPORTED = [
    {
        "id": "imp-channel-manager",
        "topic": "channel-vs-key-account",
        "question": "渠道经理和大客户经理有什么区别",
        "alternates": ["渠道经理跟大客户经理差在哪"],
        "answer": "渠道经理管经销商网络，大客户经理盯少数重点客户。",
        "sources": [{"title": "内部培训资料"}],
        "related": ["what-is-sales"],
        "tags": ["导入"],
    },
    {
        "id": "marketing-vs-sales",
        "topic": "marketing-vs-sales",
        "question": "营销和销售有什么区别？",
        "alternates": ["营销跟销售差在哪"],
        "answer": "维护者改写过的答案。",
        "sources": [{"title": "维护者"}],
        "related": ["what-is-marketing"],
        "tags": ["对比"],
    },
    {
        "kind": "passage",
        "id": "p-imported-1",
        "topic": "what-is-sales",
        "title": "导入的摘要",
        "text": "一段导入的摘要文字。",
        "sources": [{"title": "内部培训资料"}],
    },
]


def _prepare_user_data(store: Store, tmp_path: Path) -> dict[str, object]:
    """Import records (one overriding a shipped id), leave feedback and an unanswered question."""
    src = tmp_path / "imported.jsonl"
    src.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in IMPORTED) + "\n", encoding="utf-8")
    import_files(store, [src])
    store.record_feedback("what-is-sales", "what-is-sales", -1, "private", "user-a")
    store.record_feedback("channel-vs-key-account", "imp-channel-manager", 1, "group", "user-b")
    store.record_unanswered("厨师 和 服务员", "厨师和服务员有什么区别", "private", [])
    return {
        "entries": {i: store.entry(i) for i in ("imp-channel-manager", "marketing-vs-sales")},
        "passage": store.passage("p-imported-1"),
        "feedback": store.feedback_by_topic(),
        "unanswered": [(r["question"], r["count"]) for r in store.unanswered()],
        "origins": {i: store.existing("faq", [i])[i][1] for i in ("imp-channel-manager", "marketing-vs-sales")},
    }


def _change_shipped(folder: Path) -> None:
    """Rewrite what-is-sales' answer, drop the marketing-vs-market entry and one passage, edit the overridden id."""

    def edit_definitions(data: dict) -> None:
        for e in data["entries"]:
            if e["id"] == "what-is-sales":
                e["answer"] = "刷新后的销售答案。"
                e["alternates"] = [*e["alternates"], "刷新后新增的问法"]

    def edit_comparisons(data: dict) -> None:
        data["entries"] = [e for e in data["entries"] if e["id"] != "marketing-vs-market"]
        for e in data["entries"]:
            if e["id"] == "marketing-vs-sales":
                e["answer"] = "发行版里改过的答案。"

    def edit_passages(data: dict) -> None:
        data["passages"] = [p for p in data["passages"] if p["id"] != "p-000-01"]

    _edit_yaml(folder / "definitions.yaml", edit_definitions)
    _edit_yaml(folder / "comparisons.yaml", edit_comparisons)
    _edit_yaml(folder / "passages.yaml", edit_passages)


def _assert_refreshed(store: Store, before: dict[str, object]) -> None:
    # shipped rows follow the files
    sales = store.entry("what-is-sales")
    assert sales is not None and sales["answer"] == "刷新后的销售答案。"
    assert "刷新后新增的问法" in sales["alternates"]
    assert store.entry("marketing-vs-market") is None
    assert store.passage("p-000-01") is None
    phr = store.db.execute("SELECT count(*) FROM phrasings WHERE ref IN ('marketing-vs-market', 'p-000-01')")
    assert phr.fetchone()[0] == 0
    found = store.search(["刷新"], 10)
    assert any(c.ref == "what-is-sales" for c in found), "the new phrasing is indexed"
    # everything maintainers and users added stays as it was
    assert store.entry("imp-channel-manager") == before["entries"]["imp-channel-manager"]  # type: ignore[index]
    assert store.entry("marketing-vs-sales") == before["entries"]["marketing-vs-sales"]  # type: ignore[index]
    assert store.entry("marketing-vs-sales")["answer"] == "维护者改写过的答案。"  # type: ignore[index]
    assert store.existing("faq", ["marketing-vs-sales"])["marketing-vs-sales"][1] == "imported"
    assert store.passage("p-imported-1") == before["passage"]
    assert_index_counts_consistent(store)
    assert store.feedback_by_topic() == before["feedback"]
    assert [(r["question"], r["count"]) for r in store.unanswered()] == before["unanswered"]


def test_refresh_via_env_on_open(knowledge_copy: Path, tmp_path: Path) -> None:
    path = tmp_path / "k.db"
    s = open_store(path)
    before = _prepare_user_data(s, tmp_path)
    s.close()
    _change_shipped(knowledge_copy)
    s = open_store(path)
    try:
        _assert_refreshed(s, before)
    finally:
        s.close()


def test_refresh_shipped_with_folder(tmp_path: Path, store: Store) -> None:
    folder = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, folder)
    before = _prepare_user_data(store, tmp_path)
    _change_shipped(folder)
    assert refresh_shipped(store, folder) is True
    _assert_refreshed(store, before)
    assert refresh_shipped(store, folder) is False  # same files again: a no-op


def test_refreshed_knowledge_is_answered(tmp_path: Path, store: Store) -> None:
    from rolebot.engine.engine import Engine

    folder = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, folder)
    _change_shipped(folder)
    refresh_shipped(store, folder)
    result = Engine(store).ask("销售是什么？")
    assert result.answered and result.topic == "what-is-sales"
    assert result.answer == "刷新后的销售答案。"
    assert all(f["topic"] != "marketing-vs-market" for f in result.follow_ups)
