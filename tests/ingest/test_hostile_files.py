"""Ingest of odd files: names that are not UTF-8, UTF-16/32 text, files past the size limit, nothing readable."""

from __future__ import annotations

import codecs
import json
import os

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import qa.ingest.corpus as corpus_module
from qa.errors import BadInputError, NoReadableFilesError
from qa.ingest.corpus import decode, escape_path, read_documents, scan, unescape_path
from qa.text.encoding import is_encodable

ARTICLE = "Troops leave Kazakhstan\n\nThe withdrawal ends on January 19, officials said.\n"


def read_all(path):
    corpus = scan(path)
    docs, warnings = [], []
    for file in corpus.files:
        d, w = read_documents(corpus, file)
        docs += d
        warnings += [str(x) for x in w]
    return docs, warnings


# --- file names ---

names = st.binary(min_size=1, max_size=12).filter(lambda b: b"/" not in b and b"\x00" not in b)


@given(names)
@example(b"caf\xe9.txt")
@example(b"x\\x41.txt")
@example(b"\\\xe9")
@example(b"\\x5c")
def test_every_file_name_escapes_to_text_and_back(raw):
    name = os.fsdecode(raw)
    stored = escape_path(name)
    assert is_encodable(stored)
    assert os.fsencode(unescape_path(stored)) == raw


@given(names, names)
def test_two_file_names_never_share_an_escape(a, b):
    assert (escape_path(os.fsdecode(a)) == escape_path(os.fsdecode(b))) == (a == b)


def test_utf8_names_are_stored_as_they_are(tmp_path):
    (tmp_path / "café – été.txt").write_text(ARTICLE, encoding="utf-8")
    assert [f.relpath for f in scan(tmp_path).files] == ["café – été.txt"]


def test_a_latin1_name_in_a_subfolder_keeps_the_folder(tmp_path):
    folder = os.path.join(os.fsencode(tmp_path), b"d\xe9j\xe0")
    os.mkdir(folder)
    with open(os.path.join(folder, b"vu.txt"), "wb") as fh:
        fh.write(ARTICLE.encode())
    corpus = scan(tmp_path)
    assert [f.relpath for f in corpus.files] == ["d\\xe9j\\xe0/vu.txt"]
    assert (corpus.root / unescape_path(corpus.files[0].relpath)).read_text() == ARTICLE


def test_a_corpus_folder_whose_path_is_not_utf8_is_refused(tmp_path):
    folder = os.path.join(os.fsencode(tmp_path), b"caf\xe9")
    os.mkdir(folder)
    with pytest.raises(BadInputError, match=r"caf\\xe9: its path is not valid UTF-8; rename it"):
        scan(tmp_path / os.fsdecode(b"caf\xe9"))


# --- UTF-16 and UTF-32 ---


@pytest.mark.parametrize(
    ("bom", "codec"),
    [
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
    ],
)
def test_utf16_and_utf32_with_a_byte_order_mark_are_read(tmp_path, bom, codec):
    text = "Café owners said the withdrawal ends on January 19 — 2,500 troops. 🙂\r\n"
    (tmp_path / "wide.txt").write_bytes(bom + text.encode(codec))
    docs, warnings = read_all(tmp_path)
    assert warnings == []
    assert docs[0].text == text
    assert docs[0].encoding == codec[:6]
    # offsets index the decoded text, and decoding the file again gives the same text to slice
    assert decode((tmp_path / "wide.txt").read_bytes()) == (text, codec[:6])


def test_utf16_without_a_byte_order_mark_is_named_in_the_warning(tmp_path):
    (tmp_path / "wide.txt").write_bytes(ARTICLE.encode("utf-16-le"))
    (tmp_path / "blob.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR")
    _, warnings = read_all(tmp_path)
    assert warnings == [
        "blob.txt: skipped: binary file",
        "wide.txt: skipped: binary file (UTF-16 without a byte-order mark? save it as UTF-8)",
    ]


def test_a_byte_order_mark_that_does_not_fit_skips_the_file(tmp_path):
    (tmp_path / "cut.txt").write_bytes(codecs.BOM_UTF16_LE + ARTICLE.encode("utf-16-le")[:-1])  # odd length
    docs, warnings = read_all(tmp_path)
    assert docs == []
    assert warnings == ["cut.txt: skipped: starts with a UTF-16 byte-order mark but is not valid UTF-16"]


def test_utf16_jsonl_corpus_is_read(tmp_path):
    path = tmp_path / "news.jsonl"
    path.write_bytes(codecs.BOM_UTF16_LE + (json.dumps({"id": "r1", "text": ARTICLE}) + "\n").encode("utf-16-le"))
    docs, warnings = read_all(path)
    assert warnings == [] and [d.text for d in docs] == [ARTICLE]


# --- the size limit ---


def test_an_article_file_past_the_limit_is_skipped_with_its_size(tmp_path, monkeypatch):
    monkeypatch.setattr(corpus_module, "MAX_ARTICLE_BYTES", 1_000_000)
    (tmp_path / "big.txt").write_text("word " * 300_000, encoding="utf-8")
    (tmp_path / "fine.txt").write_text("word " * 200_000, encoding="utf-8")
    docs, warnings = read_all(tmp_path)
    assert [d.key for d in docs] == ["fine.txt"]
    assert warnings == [
        "big.txt: skipped: the file is 1.5 MB, over the 1 MB limit for one article (split it to index it)"
    ]


def test_a_jsonl_record_past_the_limit_is_skipped(tmp_path, monkeypatch):
    monkeypatch.setattr(corpus_module, "MAX_ARTICLE_BYTES", 1_000_000)
    path = tmp_path / "news.jsonl"
    records = [{"id": "big", "text": "word " * 300_000}, {"id": "fine", "text": ARTICLE}]
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    docs, warnings = read_all(path)
    assert [d.key for d in docs] == ["fine"]
    assert warnings == [
        "news.jsonl:1: skipped: its text is 1.5 MB, over the 1 MB limit for one article (split it to index it)"
    ]


# --- nothing readable ---


def test_a_folder_of_only_unreadable_entries_says_why_each_was_skipped(tmp_path):
    (tmp_path / "dangling.txt").symlink_to(tmp_path / "nowhere.txt")
    os.mkfifo(tmp_path / "pipe.txt")
    with pytest.raises(NoReadableFilesError) as raised:
        scan(tmp_path)
    assert str(raised.value) == (
        f"no readable documents in {tmp_path}: dangling.txt: skipped: No such file or directory; "
        "pipe.txt: skipped: not a regular file"
    )
    assert raised.value.exit_code == 2


def test_the_reasons_are_counted_past_three(tmp_path):
    for i in range(5):
        (tmp_path / f"{i}.txt").symlink_to(tmp_path / "nowhere")
    with pytest.raises(NoReadableFilesError, match=r"2\.txt: skipped: No such file or directory; and 2 more$"):
        scan(tmp_path)


def test_the_cli_shows_each_reason_when_no_file_is_readable(cli, hash_model, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    os.mkfifo(docs / "pipe.txt")
    (docs / "blob.txt").symlink_to(docs / "nowhere.txt")
    code, out, err = cli("q", "--docs", str(docs), "--index", str(tmp_path / "idx"))
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        f"error: no readable documents in {docs}: blob.txt: skipped: No such file or directory; "
        "pipe.txt: skipped: not a regular file"
    ]


def test_the_cli_warns_for_each_file_read_and_skipped(cli, hash_model, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_bytes(b"\x00\x01")
    (docs / "b.txt").write_bytes(ARTICLE.encode("utf-16-le"))
    code, _, err = cli("q", "--docs", str(docs), "--index", str(tmp_path / "idx"))
    assert code == 2
    assert err.splitlines()[1:] == [
        f"warning: {docs}/a.txt: skipped: binary file",
        f"warning: {docs}/b.txt: skipped: binary file (UTF-16 without a byte-order mark? save it as UTF-8)",
        f'error: no readable documents in {docs} (expected .txt/.md/.html files or .jsonl records with "text")',
    ]
