"""`ask.py index status|update|add|remove`: maintaining an index by hand, with clear errors."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.usefixtures("hash_model")


def where(corpus, tmp_path):
    return ["--docs", str(corpus), "--index", str(tmp_path / "idx")]


def status(cli, corpus, tmp_path) -> dict:
    code, out, _ = cli("index", "status", "--json", *where(corpus, tmp_path))
    assert code == 0
    return json.loads(out)


def test_status_before_and_after_a_build(corpus, tmp_path, cli):
    before = status(cli, corpus, tmp_path)
    assert before["generation"] is None and before["documents"] == 0
    code, out, _ = cli("index", "update", *where(corpus, tmp_path))
    assert code == 0 and out.startswith("Updated: 2 documents")
    after = status(cli, corpus, tmp_path)
    assert after["documents"] == 2 and after["pending"] is None and after["vector_index"] == "flat"
    assert after["backend"] == "hash"
    code, out, _ = cli("index", "update", *where(corpus, tmp_path))
    assert code == 0 and out.startswith("Up to date: 2 documents")
    (corpus / "a.txt").write_text("Changed text about the harbour.", encoding="utf-8")
    changed = status(cli, corpus, tmp_path)
    assert changed["changes"]["changed"] == ["a.txt"] and "documents changed" in changed["pending"]
    code, out, _ = cli("index", "status", *where(corpus, tmp_path))
    assert "up to date: no: the documents changed (0 added, 1 changed, 0 removed)" in out


def test_add_copies_an_article_in_and_embeds_only_it(cli, corpus, tmp_path):
    cli("index", "update", *where(corpus, tmp_path))
    article = tmp_path / "outside" / "volcano.txt"
    article.parent.mkdir()
    article.write_text("Lava from the volcano reached the sea on Tuesday.", encoding="utf-8")
    code, out, _ = cli("index", "add", str(article), *where(corpus, tmp_path))
    assert code == 0 and "3 documents" in out and "embedded 2 passages and sentences" in out
    assert (corpus / "volcano.txt").read_text(encoding="utf-8") == article.read_text(encoding="utf-8")
    code, out, _ = cli("--json", "-k", "1", "volcano lava", *where(corpus, tmp_path))
    assert json.loads(out)["passages"][0]["source"]["path"].endswith("volcano.txt")


def test_remove_leaves_the_file_and_add_takes_it_back(corpus, tmp_path, cli):
    cli("index", "update", *where(corpus, tmp_path))
    code, out, _ = cli("index", "remove", "a.txt", *where(corpus, tmp_path))
    assert code == 0 and "Updated: 1 document, " in out and (corpus / "a.txt").exists()
    state = status(cli, corpus, tmp_path)
    assert state["excluded"] == ["a.txt"] and state["documents"] == 1 and state["pending"] is None
    code, out, _ = cli("--passages", *where(corpus, tmp_path))
    assert out and all(json.loads(line)["path"].endswith("b.md") for line in out.splitlines())
    code, out, _ = cli("index", "add", str(corpus / "a.txt"), *where(corpus, tmp_path))
    assert code == 0 and "2 documents" in out and "embedded 0 passages" not in out
    assert status(cli, corpus, tmp_path)["excluded"] == []
    # a bare name is a name in the corpus, even when a file of that name lies in the current directory
    (tmp_path / "a.txt").write_text("Not the article.", encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path)
        code, out, _ = cli("index", "remove", "a.txt", *where(corpus, tmp_path))
    assert code == 0 and out.startswith("Updated: 1 document, ")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["index", "remove", "missing.txt"], "missing.txt is not an article of"),
        (["index", "add", "/nonexistent/x.txt"], "no such file: /nonexistent/x.txt"),
        (["index", "frobnicate"], "error: no such command 'frobnicate'"),
    ],
)
def test_bad_index_commands_get_one_line_and_exit_2(cli, corpus, tmp_path, argv, message):
    code, out, err = cli(*argv, *where(corpus, tmp_path))
    assert code == 2 and out == "" and message in err and len(err.strip().splitlines()) == 1


def test_add_refuses_to_overwrite_a_different_article(cli, corpus, tmp_path):
    other = tmp_path / "a.txt"
    other.write_text("Not the same article.", encoding="utf-8")
    original = (corpus / "a.txt").read_text(encoding="utf-8")
    code, _, err = cli("index", "add", str(other), *where(corpus, tmp_path))
    assert code == 2 and "already exists with other content" in err
    assert (corpus / "a.txt").read_text(encoding="utf-8") == original


def test_add_and_remove_need_a_folder_corpus(cli, tmp_path):
    records = tmp_path / "docs.jsonl"
    records.write_text('{"id": "1", "text": "One article."}\n', encoding="utf-8")
    code, _, err = cli("index", "remove", "1", *where(records, tmp_path))
    assert code == 2 and "is not a folder" in err


def test_status_names_a_damaged_index_without_touching_it(cli, corpus, tmp_path):
    cli("index", "update", *where(corpus, tmp_path))
    live = tmp_path / "idx" / (tmp_path / "idx" / "CURRENT").read_text().strip()
    (live / "vectors.faiss").write_bytes(b"garbage")
    code, out, _ = cli("index", "status", *where(corpus, tmp_path))
    assert code == 0 and "unusable (vectors.faiss is truncated or altered)" in out
    assert (live / "vectors.faiss").read_bytes() == b"garbage", "status repairs nothing"


def test_add_refuses_two_files_of_the_same_name(corpus, tmp_path, cli):
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "same.txt").write_text(f"Article from {folder}.", encoding="utf-8")
    code, _, err = cli(
        "index",
        "add",
        str(tmp_path / "one" / "same.txt"),
        str(tmp_path / "two" / "same.txt"),
        *where(corpus, tmp_path),
    )
    assert code == 2 and "two of the files are named same.txt" in err and not (corpus / "same.txt").exists()


def test_remove_refuses_to_empty_the_index(corpus, tmp_path, cli):
    cli("index", "update", *where(corpus, tmp_path))
    code, _, err = cli("index", "remove", "a.txt", "world/b.md", *where(corpus, tmp_path))
    assert code == 2 and "would leave no article" in err
    assert status(cli, corpus, tmp_path)["excluded"] == []


def test_unknown_backend_is_refused_before_any_work(cli, corpus, tmp_path):
    code, _, err = cli("index", "update", "--backend", "bogus", *where(corpus, tmp_path))
    assert code == 2 and "unknown --backend 'bogus'" in err and not (tmp_path / "idx").exists()
    code, _, err = cli("--backend", "bogus", "troops", *where(corpus, tmp_path))
    assert code == 2 and "unknown --backend 'bogus'" in err


def test_update_and_status_with_a_milvus_store(corpus, tmp_path, cli):
    pytest.importorskip("milvus_lite")
    store = ["--store", f"milvus:{tmp_path / 'news.db'}"]
    code, out, _ = cli("index", "status", *where(corpus, tmp_path), *store)
    assert (
        code == 0
        and out.splitlines()[-1]
        == f"milvus:     milvus:{tmp_path / 'news.db'}: empty (`ask.py index update --store ...` fills it)"
    )
    assert not (tmp_path / "news.db").exists()  # status creates nothing

    code, out, _ = cli("index", "update", *where(corpus, tmp_path), *store)
    assert code == 0 and out.splitlines()[1].startswith(f"Milvus (milvus:{tmp_path / 'news.db'}): 2 documents written")
    mirror = json.loads(cli("index", "status", "--json", *where(corpus, tmp_path), *store)[1])["store"]
    assert (mirror["documents"], mirror["in_step"]) == (2, True) and mirror["passages"] > 0

    (corpus / "a.txt").write_text("Changed text about the harbour.", encoding="utf-8")
    assert cli("index", "update", *where(corpus, tmp_path))[0] == 0  # the index moves on, not the mirror
    code, out, _ = cli("index", "status", *where(corpus, tmp_path), *store)
    assert out.splitlines()[-1].endswith(
        "not in step with this index (documents of this index it does not hold as they are: 1):"
        " `ask.py index update --store ...` brings it in step"
    )
    code, out, _ = cli("index", "update", *where(corpus, tmp_path), *store)
    first, mirrored = out.splitlines()
    assert first.startswith("Up to date: 2 documents")
    assert mirrored.startswith(f"Milvus (milvus:{tmp_path / 'news.db'}): 1 document written, 1 removed, ")
    assert json.loads(cli("index", "status", "--json", *where(corpus, tmp_path), *store)[1])["store"]["in_step"]

    other = tmp_path / "other"  # another corpus is refused: it would replace the mirror
    other.mkdir()
    (other / "x.txt").write_text("Another story about a bridge.", encoding="utf-8")
    code, _, err = cli("index", "update", "--docs", str(other), "--index", str(tmp_path / "other-idx"), *store)
    assert code == 2 and f"mirrors another corpus ({corpus}: 2 documents, 0 of them the same in this index)" in err
    assert err.splitlines()[-1].startswith("error: ") and err.splitlines()[-1].endswith("or its own store")
    code, out, _ = cli("index", "status", "--docs", str(other), "--index", str(tmp_path / "other-idx"), *store)
    assert code == 0 and "mirrors another corpus" in out.splitlines()[-1]
    assert json.loads(cli("index", "status", "--json", *where(corpus, tmp_path), *store)[1])["store"]["in_step"]

    code, _, err = cli("index", "update", *where(corpus, tmp_path), "--store", "milvus:nowhere")
    assert code == 2 and err.startswith("error: a Milvus Lite store is a path ending in .db")
