"""Adding uploaded files: safe names, per-file checks, the size setting, staging out of the
web server's folder, and the corpus left as it was when the update fails."""

from __future__ import annotations

import pytest
from sample_files import REPORTS, scanned_pdf

from rag.embedding import HashEmbedder
from rag.errors import CorpusError, IndexCancelledError
from rag.indexing import Watch
from rag.ingest.ocr import tesseract_languages
from rag.store import build_settings, load_index
from rag.uploads import add_uploads, safe_report_name, stage_uploads

HARVEST = "감귤 수확 보고서\n\n올해 제주 감귤 수확량은 52만 톤으로 집계되었다.\n"
TRAINS = "철도 운행 보고서\n\n고속철도의 정시 운행률은 98.7%였다.\n"


@pytest.mark.parametrize(("name", "safe"), [
    ("report.txt", "report.txt"),
    ("../../etc/passwd.md", "passwd.md"),
    ("C:\\Users\\x\\보고서 2025.TXT", "보고서-2025.txt"),
    ('<script>alert("x")</script>.txt', "script.txt"),
    (".hidden.txt", "hidden.txt"),
    ("....txt", "report.txt"),
])
def test_safe_report_name(name, safe) -> None:
    assert safe_report_name(name) == safe


@pytest.mark.parametrize("name", ["report.exe", "report", "archive.txt.gz"])
def test_safe_report_name_refuses_other_files(name) -> None:
    with pytest.raises(CorpusError):
        safe_report_name(name)


def documents(config):
    return load_index(config.index_dir, build_settings(config, "hash", 256)).documents


def staged(tmp_path, files):
    server = tmp_path / "server-temp"
    server.mkdir(exist_ok=True)
    paths = []
    for name, data in files.items():
        (server / name).write_bytes(data if isinstance(data, bytes) else data.encode())
        paths.append(server / name)
    return stage_uploads(paths, tmp_path / "staging"), server


def test_uploads_leave_the_servers_folder_and_keep_same_names_apart(tmp_path) -> None:
    server = tmp_path / "server-temp"
    (server / "a").mkdir(parents=True)
    (server / "b").mkdir()
    (server / "a" / "report.txt").write_text(HARVEST, encoding="utf-8")
    (server / "b" / "report.txt").write_text(TRAINS, encoding="utf-8")
    files = stage_uploads([server / "a" / "report.txt", server / "b" / "report.txt",
                           server / "gone.txt"], tmp_path / "staging")
    assert [f.name for f in files] == ["report.txt", "report.txt", "gone.txt"]
    assert [f.read_text(encoding="utf-8") for f in files[:2]] == [HARVEST, TRAINS]
    assert not any(p.is_file() for p in server.rglob("*"))  # nothing left to download


def test_each_file_gets_its_result_and_the_good_ones_are_indexed(built_config, tmp_path):
    files, _ = staged(tmp_path, {"harvest.txt": HARVEST, "copy.txt": HARVEST,
                                 "data.txt": b"\x00\x01\x02 binary", "trains.md": TRAINS})
    files.append(tmp_path / "staging" / "vanished.txt")
    results, report = add_uploads(built_config, files, documents(built_config),
                                  HashEmbedder())
    by_name = {r.name: r for r in results}
    assert by_name["harvest.txt"].status == by_name["trains.md"].status == "indexed"
    assert "searchable now" in by_name["harvest.txt"].detail
    assert "same text as the report harvest" in by_name["copy.txt"].detail
    assert "binary" in by_name["data.txt"].detail
    assert "cannot read the upload" in by_name["vanished.txt"].detail
    assert all(str(tmp_path) not in r.detail for r in results)  # no server paths
    assert report.added == ("harvest", "trains")
    assert {"harvest", "trains"} <= set(documents(built_config))


def test_a_file_over_the_size_setting_is_refused(built_config, tmp_path):
    files, _ = staged(tmp_path, {"big.txt": "가" * (1024 * 1024)})  # 3 MB in UTF-8
    results, report = add_uploads(built_config.replace(max_upload_mb=1), files,
                                  documents(built_config), HashEmbedder())
    assert report is None and results[0].status == "skipped"
    assert "max_upload_mb" in results[0].detail
    assert not (built_config.corpus_dir / "big.txt").exists()


def test_a_name_taken_in_the_corpus_gets_a_number(built_config, tmp_path):
    files, _ = staged(tmp_path, {"alpha.txt": HARVEST})
    results, _ = add_uploads(built_config, files, documents(built_config), HashEmbedder())
    assert (results[0].name, results[0].doc_id) == ("alpha-2.txt", "alpha-2")


def test_a_cancelled_update_takes_the_copied_files_back_out(built_config, tmp_path):
    files, _ = staged(tmp_path, {"harvest.txt": HARVEST})
    before = sorted(p.name for p in built_config.corpus_dir.iterdir())
    watch = Watch(cancel=__import__("threading").Event())
    watch.cancel.set()
    with pytest.raises(IndexCancelledError, match="index is unchanged"):
        add_uploads(built_config, files, documents(built_config), HashEmbedder(), watch)
    assert sorted(p.name for p in built_config.corpus_dir.iterdir()) == before
    assert "harvest" not in documents(built_config)


@pytest.mark.integration
@pytest.mark.skipif("kor" not in tesseract_languages(),
                    reason="Tesseract with its Korean model is not installed (make test "
                           "installs tesseract-ocr-kor)")
def test_a_scanned_pdf_upload_is_read_by_ocr_once(built_config, tmp_path, monkeypatch):
    from rag.ingest import ocr

    pages_read = []
    real = ocr.read_page

    def counting(page, languages="kor+eng"):
        pages_read.append(page)
        return real(page, languages)

    monkeypatch.setattr(ocr, "read_page", counting)
    config = built_config.replace(ocr="on")
    scan = scanned_pdf(REPORTS / "pdf" / "klid-china-ai-policy-2025.pdf",
                       tmp_path / "upload.pdf", pages=1)
    (file,) = stage_uploads([scan], tmp_path / "staging")
    (result,), report = add_uploads(config, [file], documents(config), HashEmbedder())
    assert result.status == "indexed", result.detail
    assert report.added == ("upload",)
    # The check before the copy read the page; the index update reused that reading.
    assert len(pages_read) == 1
    assert "개발 정책과 사례" in documents(config)["upload"].text
