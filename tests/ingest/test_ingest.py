"""Ingest: decoding with fallbacks, skipped files, .jsonl records, raw offsets preserved."""

from __future__ import annotations

import json

from qa.ingest.corpus import read_documents, scan


def read_all(path):
    corpus = scan(path)
    docs, warnings = [], []
    for file in corpus.files:
        d, w = read_documents(corpus, file)
        docs += d
        warnings += w
    return corpus, docs, [str(w) for w in warnings]


def test_folder_is_searched_recursively_hidden_and_other_files_ignored(corpus):
    (corpus / ".hidden").mkdir()
    (corpus / ".hidden" / "x.txt").write_text("secret", encoding="utf-8")
    (corpus / "notes.pdf").write_bytes(b"%PDF")
    found, docs, warnings = read_all(corpus)
    assert found.kind == "folder"
    assert [d.key for d in docs] == ["a.txt", "world/b.md"]
    assert warnings == []


def test_latin1_file_is_read_with_a_warning(tmp_path):
    (tmp_path / "old.txt").write_bytes("Caf\xe9 prices in S\xe3o Paulo rose.".encode("latin-1"))
    _, docs, warnings = read_all(tmp_path)
    assert docs[0].text == "Café prices in São Paulo rose."
    assert docs[0].encoding == "cp1252"
    assert warnings == ["old.txt: not valid UTF-8; read as cp1252"]


def test_empty_and_binary_files_are_skipped_with_warnings(tmp_path):
    (tmp_path / "empty.txt").write_text("  \n\n", encoding="utf-8")
    (tmp_path / "blob.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    (tmp_path / "ok.txt").write_text("Fine.", encoding="utf-8")
    _, docs, warnings = read_all(tmp_path)
    assert [d.key for d in docs] == ["ok.txt"]
    assert sorted(warnings) == ["blob.txt: skipped: binary file", "empty.txt: skipped: empty file"]


def test_crlf_and_bom_keep_offsets_on_the_decoded_text(tmp_path):
    (tmp_path / "win.txt").write_bytes("\ufeffLine one.\r\nLine two.\r\n".encode())
    _, docs, _ = read_all(tmp_path)
    assert docs[0].text == "Line one.\r\nLine two.\r\n"


def test_jsonl_records_metadata_and_bad_lines(tmp_path):
    path = tmp_path / "news.jsonl"
    lines = [
        json.dumps(
            {
                "id": "r1",
                "text": "First story.",
                "title": "One",
                "published": "2022-01-14T10:00:00Z",
                "publisher": "Dawn",
                "url": "https://example.org/1",
            }
        ),
        "{not json",
        json.dumps({"id": "r2", "title": "no text"}),
        json.dumps({"id": "r1", "text": "Duplicate id."}),
        json.dumps({"text": "No id, line number used.\u2028Still the same record.", "published": "January 14th, 2022"}),
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    found, docs, warnings = read_all(path)
    assert found.kind == "jsonl"
    assert [(d.key, d.source_id, d.title, d.publisher, d.published) for d in docs] == [
        ("r1", "r1", "One", "Dawn", "2022-01-14"),
        ("5", "5", None, None, "2022-01-14"),
    ]
    assert docs[1].text == "No id, line number used.\u2028Still the same record."
    assert warnings == [
        "news.jsonl:2: skipped: not JSON (Expecting property name enclosed in double quotes)",
        'news.jsonl:3: skipped: a record needs a "text" string',
        "news.jsonl:4: skipped: duplicate id 'r1'",
    ]


def test_broken_links_and_fifos_are_skipped_with_warnings(corpus):
    import os

    (corpus / "dangling.txt").symlink_to(corpus / "nowhere.txt")
    os.mkfifo(corpus / "pipe.txt")
    found, docs, _ = read_all(corpus)
    assert [d.key for d in docs] == ["a.txt", "world/b.md"]
    assert sorted(str(w) for w in found.skipped) == [
        "dangling.txt: skipped: No such file or directory",
        "pipe.txt: skipped: not a regular file",
    ]


def test_jsonl_lone_surrogates_and_odd_ids(tmp_path):
    path = tmp_path / "odd.jsonl"
    path.write_text(
        '{"id": "ok", "text": "Fine."}\n{"id": "bad", "text": "Bad \\ud800 text"}\n'
        '{"id": {"a": 1}, "text": "Object id.", "title": ["x"]}\n{"id": 7, "text": "Number id."}\n',
        encoding="utf-8",
    )
    _, docs, warnings = read_all(path)
    assert [(d.key, d.title) for d in docs] == [("ok", None), ("3", None), ("7", None)]
    assert warnings == ["odd.jsonl:2: skipped: text holds invalid Unicode (a lone surrogate)"]
