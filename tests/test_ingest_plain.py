"""Reading reports: decoding, web-chrome removal, titles, document ids, corpus errors."""

import codecs
import hashlib
import os
import unicodedata
from pathlib import Path

import pytest

from rag.errors import CorpusError
from rag.ingest import (
    clean_text,
    decode_bytes,
    extract_title,
    make_doc_id,
    read_corpus,
    read_document,
)

# --- decoding -------------------------------------------------------------------------


def test_decode_utf8():
    assert decode_bytes("중국 인공지능".encode()) == ("중국 인공지능", "utf-8")


def test_decode_utf8_with_bom_drops_the_bom():
    text, encoding = decode_bytes(codecs.BOM_UTF8 + "중국 인공지능".encode())
    assert text == "중국 인공지능"
    assert encoding == "utf-8-sig"


def test_decode_utf16_with_bom():
    assert decode_bytes("중국 인공지능".encode("utf-16")) == ("중국 인공지능", "utf-16")


def test_decode_cp949():
    raw = "중국 인공지능".encode("cp949")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # the case under test: not valid UTF-8
    assert decode_bytes(raw) == ("중국 인공지능", "cp949")


def test_decode_euc_kr_bytes_as_cp949():
    # EUC-KR is a subset of CP949; "똠" is outside EUC-KR but inside CP949.
    assert decode_bytes("생성형 AI 특허".encode("euc-kr")) == ("생성형 AI 특허", "cp949")
    assert decode_bytes("똠방각하".encode("cp949"))[0] == "똠방각하"


def test_undecodable_bytes_raise_with_advice():
    with pytest.raises(CorpusError) as info:
        decode_bytes(bytes(range(1, 256)), "blob.txt")
    message = str(info.value)
    assert "blob.txt" in message
    assert "UTF-8" in message
    assert "iconv" in message


def test_binary_file_that_decodes_as_cp949_is_rejected():
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00"
    with pytest.raises(CorpusError, match="binary"):
        decode_bytes(png, "image.txt")


def test_binary_file_that_is_valid_utf8_is_rejected():
    with pytest.raises(CorpusError, match="binary"):
        decode_bytes(b"\x00\x00\x00\x01data\x00\x02\x00", "blob.txt")


# --- cleaning -------------------------------------------------------------------------


def test_clean_text_removes_chrome_lines_and_keeps_content_verbatim():
    raw = (
        "본문 바로가기\r\n"
        "  제목 줄  \r\n"
        "SNS 공유하기\n"
        "내용\t탭과   여러 공백이 그대로 남는다.\n"
        "홈으로 이동 인쇄하기 주소복사 공유\n"
        "주소복사 기능을 설명하는 문장은 남는다.\n"
        "\n"
        "맨 위로\n"
    )
    assert clean_text(raw) == (
        "  제목 줄  \n"
        "내용\t탭과   여러 공백이 그대로 남는다.\n"
        "주소복사 기능을 설명하는 문장은 남는다.\n"
    )


@pytest.mark.parametrize("line", [
    "본문 바로가기", "본문바로가기", "SNS 공유하기", "홈으로 이동 인쇄하기 주소복사 공유",
    "인쇄하기", "주소 복사", "목록보기", "이전글", "다음 글", "TOP", "Skip to main content",
])
def test_chrome_line_variants_are_dropped(line):
    assert clean_text(f"앞 문장이다.\n  {line}  \n뒤 문장이다.\n") == "앞 문장이다.\n뒤 문장이다.\n"


def test_clean_text_normalises_line_endings_and_edges():
    assert clean_text("\n\n첫 줄\r둘째 줄\r\n\n\n") == "첫 줄\n둘째 줄\n"


# --- titles ---------------------------------------------------------------------------


def test_two_line_title_ending_with_colon_is_joined(corpus_dir):
    text = clean_text((corpus_dir / "alpha.txt").read_text(encoding="utf-8"))
    assert extract_title(text) == "중국 인공지능 개발 정책과 사례: 과거, 현재, 그리고 미래 방향"


def test_title_skips_short_and_latin_lines():
    text = "KLID & SMART\nISSUE 돋보기 ②\n\n글로벌 AI 패권 경쟁 : 중국 동향과 시사점\n본문이다.\n"
    assert extract_title(text) == "글로벌 AI 패권 경쟁 : 중국 동향과 시사점"


def test_title_skips_sentences_and_bullets():
    text = "- 중국은 생성형 AI 특허에서 앞서 있음\n중국은 인공지능 산업을 키우고 있다.\n"
    assert extract_title(text) is None


def test_title_falls_back_to_file_stem(tmp_path):
    path = tmp_path / "deepseek-costs.txt"
    path.write_text("DeepSeek spent 5.6 million dollars on V3.\n", encoding="utf-8")
    assert read_document(path).title == "deepseek-costs"


# --- documents and ids ------------------------------------------------------------------


def test_read_document_fields(corpus_dir):
    path = corpus_dir / "alpha.txt"
    doc = read_document(path, doc_id="alpha")
    assert doc.doc_id == "alpha"
    assert doc.source == str(path)
    assert doc.encoding == "utf-8"
    assert doc.text == clean_text(path.read_text(encoding="utf-8"))
    assert "본문 바로가기" not in doc.text
    assert "중국은 정부 주도로 인공지능 산업을 키우고 있다." in doc.text
    assert doc.sha256 == hashlib.sha256(doc.text.encode("utf-8")).hexdigest()


def test_read_document_cp949_file(tmp_path):
    path = tmp_path / "legacy.txt"
    path.write_bytes("중국 인공지능 정책 보고서\n중국 인공지능 산업이 성장했다.\n".encode("cp949"))
    doc = read_document(path)
    assert doc.encoding == "cp949"
    assert doc.text == "중국 인공지능 정책 보고서\n중국 인공지능 산업이 성장했다.\n"
    assert doc.doc_id == "legacy"
    assert doc.title == "중국 인공지능 정책 보고서"


def test_read_document_utf8_bom_file(tmp_path, corpus_dir):
    beta = (corpus_dir / "beta.txt").read_text(encoding="utf-8")
    path = tmp_path / "bom.txt"
    path.write_bytes(codecs.BOM_UTF8 + beta.encode())
    doc = read_document(path)
    assert doc.encoding == "utf-8-sig"
    assert doc.text == beta
    assert not doc.text.startswith("\ufeff")


@pytest.mark.parametrize("content", ["", "   \n\t\n", "본문 바로가기\nSNS 공유하기\n"])
def test_document_without_text_raises(tmp_path, content):
    path = tmp_path / "empty.txt"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CorpusError) as info:
        read_document(path)
    assert str(path) in str(info.value)
    assert ("holds no text" if content else "is empty (0 bytes)") in str(info.value)


def test_unreadable_path_raises(tmp_path):
    with pytest.raises(CorpusError, match="cannot read"):
        read_document(tmp_path / "missing.txt")


@pytest.mark.parametrize(("relative", "expected"), [
    ("alpha.txt", "alpha"),
    ("Report 2025 (최종).txt", "report-2025-최종"),
    ("sub dir/KISTEP Brief.md", "sub-dir--kistep-brief"),
    ("v1.2-notes.txt", "v1.2-notes"),
    ("!!!.txt", "document"),
])
def test_make_doc_id(relative, expected):
    assert make_doc_id(Path(relative)) == expected


def test_make_doc_id_is_nfc():
    nfd = unicodedata.normalize("NFD", "중국보고서.txt")
    assert make_doc_id(Path(nfd)) == "중국보고서"


# --- the corpus folder ----------------------------------------------------------------


def test_read_corpus_sorted_with_ids_from_file_names(corpus_dir):
    (corpus_dir / "nested").mkdir()
    (corpus_dir / "nested" / "Gamma Notes.md").write_text("감마 보고서 본문이다.\n", "utf-8")
    (corpus_dir / "ignored.pdf").write_bytes(b"%PDF-1.4")
    (corpus_dir / ".hidden.txt").write_text("숨은 파일이다.\n", "utf-8")
    (corpus_dir / ".git").mkdir()
    (corpus_dir / ".git" / "notes.txt").write_text("숨은 폴더다.\n", "utf-8")
    reading = read_corpus(corpus_dir)
    docs = reading.documents
    assert [d.doc_id for d in docs] == ["alpha", "beta", "nested--gamma-notes"]
    assert docs[1].title == "글로벌 AI 패권 경쟁 : 중국 동향과 시사점"
    # Hidden paths are named as skipped; a truncated PDF is skipped with its reason; the
    # text reports are still read.
    reasons = {Path(s.path).name: s.reason for s in reading.skipped}
    assert list(reasons) == [".git", ".hidden.txt", "ignored.pdf"]
    assert "hidden folder" in reasons[".git"] and "hidden file" in reasons[".hidden.txt"]


def test_files_of_other_formats_are_named_with_what_to_do(corpus_dir):
    (corpus_dir / "budget.xlsx").write_bytes(b"PK\x03\x04")
    (corpus_dir / "README").write_text("설명 파일이다.\n", "utf-8")
    reading = read_corpus(corpus_dir)
    assert [d.doc_id for d in reading.documents] == ["alpha", "beta"]
    reasons = {Path(s.path).name: s.reason for s in reading.skipped}
    assert set(reasons) == {"budget.xlsx", "README"}
    assert all("not a report format" in r and ".pdf" in r for r in reasons.values())


def test_linked_folder_is_named_not_followed(corpus_dir, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "outside.txt").write_text("밖에 있는 보고서다.\n", "utf-8")
    (corpus_dir / "shortcut").symlink_to(elsewhere, target_is_directory=True)
    (corpus_dir / "loop").symlink_to(corpus_dir, target_is_directory=True)
    reading = read_corpus(corpus_dir)
    assert [d.doc_id for d in reading.documents] == ["alpha", "beta"]
    reasons = {Path(s.path).name: s.reason for s in reading.skipped}
    assert set(reasons) == {"loop", "shortcut"}
    assert all("link to a folder" in r for r in reasons.values())


@pytest.mark.skipif(os.geteuid() == 0, reason="root opens every folder")
def test_unreadable_folder_is_named_and_the_rest_is_read(corpus_dir):
    locked = corpus_dir / "locked"
    locked.mkdir()
    (locked / "secret.txt").write_text("잠긴 폴더의 보고서다.\n", "utf-8")
    locked.chmod(0)
    try:
        reading = read_corpus(corpus_dir)
    finally:
        locked.chmod(0o755)
    assert [d.doc_id for d in reading.documents] == ["alpha", "beta"]
    (skip,) = reading.skipped
    assert skip.path.endswith("locked") and "cannot be opened" in skip.reason


def test_read_corpus_decodes_each_file_on_its_own(corpus_dir):
    (corpus_dir / "legacy.txt").write_bytes("중국 인공지능 산업이 성장했다.\n".encode("cp949"))
    encodings = {d.doc_id: d.encoding for d in read_corpus(corpus_dir).documents}
    assert encodings == {"alpha": "utf-8", "beta": "utf-8", "legacy": "cp949"}


def test_missing_corpus_folder(tmp_path):
    with pytest.raises(CorpusError) as info:
        read_corpus(tmp_path / "nowhere")
    assert "does not exist" in str(info.value)
    assert str(tmp_path / "nowhere") in str(info.value)


def test_empty_corpus_folder(tmp_path):
    (tmp_path / "notes.xlsx").write_bytes(b"PK\x03\x04")
    with pytest.raises(CorpusError, match=r"holds no reports") as info:
        read_corpus(tmp_path)
    assert "notes.xlsx: not a report format" in str(info.value)


def test_corpus_of_only_broken_files_fails_naming_them(tmp_path):
    (tmp_path / "blank.txt").write_text("", encoding="utf-8")
    (tmp_path / "notes.pdf").write_bytes(b"%PDF")
    with pytest.raises(CorpusError, match=r"no report .* could be read") as info:
        read_corpus(tmp_path)
    assert "blank.txt" in str(info.value) and "notes.pdf" in str(info.value)


def test_empty_file_is_skipped_with_its_name(corpus_dir):
    (corpus_dir / "blank.txt").write_text("", encoding="utf-8")
    reading = read_corpus(corpus_dir)
    assert [d.doc_id for d in reading.documents] == ["alpha", "beta"]
    (skip,) = reading.skipped
    assert skip.path.endswith("blank.txt") and "0 bytes" in skip.reason


def test_binary_file_is_skipped_with_its_name(corpus_dir):
    (corpus_dir / "scan.txt").write_bytes(bytes(range(256)) * 4)
    (skip,) = read_corpus(corpus_dir).skipped
    # (The test's own folder name holds "binary": the reason is checked after the path.)
    assert skip.reason.startswith(f"{corpus_dir / 'scan.txt'} looks like a binary file")


def test_duplicate_ids_skip_the_second_file(corpus_dir):
    (corpus_dir / "Alpha.md").write_text("다른 알파 보고서 본문이다.\n", encoding="utf-8")
    reading = read_corpus(corpus_dir)
    assert [d.doc_id for d in reading.documents] == ["alpha", "beta"]
    (skip,) = reading.skipped
    assert "'alpha'" in skip.reason and skip.path.endswith("alpha.txt")
    assert "rename" in skip.reason


def test_chinese_gbk_bytes_are_not_taken_for_cp949(tmp_path):
    text = ("人工智能产业的发展正在改变全球经济格局。中国政府高度重视人工智能技术的研究与应用。"
            "专家认为未来五年是人工智能发展的关键时期需要加强基础研究突破核心技术。"
            "吸引企业和人才集聚。出台了一系列政策措施。")
    raw = text.encode("gbk")
    raw.decode("cp949")  # GB2312's byte ranges are EUC-KR's: CP949 reads them as Hangul
    path = tmp_path / "foreign.txt"
    path.write_bytes(raw)
    with pytest.raises(CorpusError, match="not Korean text in CP949") as info:
        read_document(path)
    assert "decodes as GBK" in str(info.value) and "UTF-8" in str(info.value)


@pytest.mark.parametrize("text", ["北京是中国的首都，也是全国的政治和文化中心。",
                                  "产品说明书：请在使用前仔细阅读本说明书。"])
def test_a_short_gbk_text_is_not_taken_for_cp949(tmp_path, text):
    path = tmp_path / "memo.txt"
    path.write_bytes(text.encode("gbk"))
    with pytest.raises(CorpusError, match="not Korean text in CP949"):
        read_document(path)


@pytest.mark.parametrize("text", ["대한민국 정부의 中國 經濟 對應 方案 요약",
                                  "회의록: 예산 3억 원 승인, 다음 회의는 5월.",
                                  "韓國 經濟 現況 보고"])
def test_a_short_cp949_korean_memo_with_hanja_still_reads(tmp_path, text):
    path = tmp_path / "memo.txt"
    path.write_bytes(text.encode("cp949"))
    assert read_document(path).encoding == "cp949"


def test_cp949_korean_with_a_rare_syllable_still_reads(tmp_path):
    # Rare syllables (똠, 햏: outside EUC-KR, CP949 only) in ordinary Korean prose.
    text = ("똠방각하라는 말은 이제 잘 쓰이지 않지만 지역 신문에는 아직 남아 있다. "
            "햏자라는 표현도 한때 유행했다. 두 낱말 모두 사전에는 실려 있으며 국어 연구자들은 "
            "이런 낱말이 어떻게 생겨났는지 꾸준히 기록하고 있다.\n")
    path = tmp_path / "rare.txt"
    path.write_bytes(text.encode("cp949"))
    doc = read_document(path)
    assert doc.encoding == "cp949" and doc.text == text
