"""Building the index: first build, incremental updates, rebuilds, and failures."""

import json
import logging

import numpy as np
import pytest

from rag.chunking import chunk_document, split_sentences
from rag.embedding import HashEmbedder
from rag.errors import ModelUnavailableError
from rag.generations import LOCK, current_dir
from rag.indexing import Watch, build_index, index_terms
from rag.ingest import read_corpus, read_document
from rag.store import MANIFEST, build_settings, load_index


class CountingEmbedder(HashEmbedder):
    """The hashing embedder, remembering every passage it was asked to embed."""

    def __init__(self):
        super().__init__()
        self.passages = []

    def embed_passages(self, texts, progress=False):
        self.passages.extend(texts)
        return super().embed_passages(texts, progress)


class FailingEmbedder(HashEmbedder):
    def embed_passages(self, texts, progress=False):
        raise RuntimeError("model crashed mid-way")


def no_embedder(config):
    raise AssertionError("the embedder must not be created when nothing changed")


def load(config):
    return load_index(config.index_dir, build_settings(config, "hash", 256))


def snapshot(config):
    """Every file of the index with its modification time and bytes (not the writer lock,
    which records the last process to take it)."""
    return {str(p.relative_to(config.index_dir)): (p.stat().st_mtime_ns, p.read_bytes())
            for p in sorted(config.index_dir.rglob("*")) if p.is_file() and p.name != LOCK}


def doc_chunks(config, doc_id):
    return [c for c in load(config).chunks if c.doc_id == doc_id]


def test_first_build_embeds_every_chunk(config):
    embedder = CountingEmbedder()
    report = build_index(config, embedder=embedder)
    docs = read_corpus(config.corpus_dir).documents
    chunks = [c for d in docs for c in chunk_document(d, 64, 16)]
    assert report.added == ("alpha", "beta")
    assert (report.changed, report.removed, report.unchanged) == ((), (), ())
    assert report.chunks == report.embedded_chunks == len(chunks)
    assert not report.up_to_date
    assert report.index_dir == str(config.index_dir)
    sentences = [x.text for d in docs for x in split_sentences(d)]
    # Chunks (behind their context) first, then the sentences extractive answers cite.
    assert sorted(embedder.passages) == sorted([c.embedding_text(True) for c in chunks]
                                               + sentences)
    # Longest first, so each batch holds texts of about one length (little padding).
    assert [len(t) for t in embedder.passages] == sorted(map(len, embedder.passages),
                                                          reverse=True)


def test_embedder_comes_from_the_factory(config):
    made = []

    def factory(cfg):
        made.append(cfg)
        return HashEmbedder()

    build_index(config, embedder_factory=factory)
    assert made == [config]


def test_a_model_that_fails_to_load_fails_the_update_with_its_own_error(built_config):
    (built_config.corpus_dir / "gamma.txt").write_text("새 문서이다. 내용이 있다.\n",
                                                       encoding="utf-8")
    before = load(built_config).chunks

    def factory(cfg):
        raise ModelUnavailableError("no model here; install it")

    with pytest.raises(ModelUnavailableError, match="no model here"):
        build_index(built_config, embedder_factory=factory)
    assert load(built_config).chunks == before


def test_embed_context_off_embeds_bare_text(config):
    config = config.replace(embed_context=False)
    embedder = CountingEmbedder()
    build_index(config, embedder=embedder)
    index = load_index(config.index_dir, build_settings(config, "hash", 256))
    assert set(embedder.passages) >= {c.text for c in index.chunks}
    assert not any(c.embedding_text(True) in embedder.passages for c in index.chunks
                   if c.title or c.section)


def test_unchanged_corpus_is_up_to_date_without_model_or_writes(built_config):
    before = snapshot(built_config)
    report = build_index(built_config, embedder_factory=no_embedder)
    assert report.up_to_date
    assert report.unchanged == ("alpha", "beta")
    assert report.embedded_chunks == 0
    assert report.chunks == len(load(built_config).chunks)
    assert snapshot(built_config) == before


def test_changed_document_re_embeds_only_its_chunks(built_config):
    old = load(built_config)
    path = built_config.corpus_dir / "beta.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("38,000건", "39,000건"),
                    encoding="utf-8")
    embedder = CountingEmbedder()
    report = build_index(built_config, embedder=embedder)
    assert report.changed == ("beta",)
    assert report.unchanged == ("alpha",)
    assert (report.added, report.removed) == ((), ())
    new = load(built_config)
    beta = [c for c in new.chunks if c.doc_id == "beta"]
    assert report.embedded_chunks == len(beta)
    beta_sentences = [x.text for x in new.sentences if x.doc_id == "beta"]
    assert sorted(embedder.passages) == sorted([c.embedding_text(True) for c in beta]
                                               + beta_sentences)
    alpha_old = [i for i, x in enumerate(old.sentences) if x.doc_id == "alpha"]
    alpha_new = [i for i, x in enumerate(new.sentences) if x.doc_id == "alpha"]
    assert np.array_equal(new.sentence_vectors[alpha_new], old.sentence_vectors[alpha_old])
    assert any("39,000건" in c.text for c in beta)
    # alpha keeps its chunks, vectors and terms, in the same order
    old_rows = [i for i, c in enumerate(old.chunks) if c.doc_id == "alpha"]
    new_rows = [i for i, c in enumerate(new.chunks) if c.doc_id == "alpha"]
    assert [new.chunks[i] for i in new_rows] == [old.chunks[i] for i in old_rows]
    assert np.array_equal(new.embeddings[new_rows], old.embeddings[old_rows])
    assert [new.tokens[i] for i in new_rows] == [old.tokens[i] for i in old_rows]
    # the re-embedded rows equal a fresh build's
    fresh = HashEmbedder().embed_passages([c.embedding_text(True) for c in beta])
    beta_rows = [i for i, c in enumerate(new.chunks) if c.doc_id == "beta"]
    assert np.allclose(new.embeddings[beta_rows], fresh)


def test_added_document(built_config):
    (built_config.corpus_dir / "gamma.txt").write_text(
        "딥시크 학습 비용 분석\n\n1. 학습 비용\n딥시크는 V3 모델 학습에 557만 달러를 썼다.\n",
        encoding="utf-8")
    embedder = CountingEmbedder()
    report = build_index(built_config, embedder=embedder)
    assert report.added == ("gamma",)
    assert report.unchanged == ("alpha", "beta")
    gamma = doc_chunks(built_config, "gamma")
    assert gamma
    gamma_sentences = [x for x in load(built_config).sentences if x.doc_id == "gamma"]
    assert report.embedded_chunks == len(gamma)
    assert len(embedder.passages) == len(gamma) + len(gamma_sentences)
    assert load(built_config).manifest["counts"]["documents"] == 3


def test_removed_document_drops_its_chunks(built_config):
    (built_config.corpus_dir / "beta.txt").unlink()
    embedder = CountingEmbedder()
    report = build_index(built_config, embedder=embedder)
    assert report.removed == ("beta",)
    assert report.unchanged == ("alpha",)
    assert report.embedded_chunks == 0
    assert embedder.passages == []
    index = load(built_config)
    assert {c.doc_id for c in index.chunks} == {"alpha"}
    assert set(index.documents) == {"alpha"}
    assert set(index.manifest["documents"]) == {"alpha"}
    assert index.dense.size == index.bm25.size == len(index.chunks) == report.chunks


def test_rebuild_re_embeds_everything(built_config):
    embedder = CountingEmbedder()
    report = build_index(built_config, embedder=embedder, rebuild=True)
    assert report.added == ("alpha", "beta")
    n_sentences = len(load(built_config).sentences)
    assert report.embedded_chunks == report.chunks
    assert len(embedder.passages) == report.chunks + n_sentences


def test_changed_chunk_settings_rebuild_from_scratch(built_config, caplog):
    config = built_config.replace(chunk_tokens=100, chunk_overlap_tokens=20)
    embedder = CountingEmbedder()
    with caplog.at_level(logging.WARNING, logger="rag.indexing"):
        report = build_index(config, embedder=embedder)
    assert "rebuilding the whole index" in caplog.text
    assert report.added == ("alpha", "beta")
    assert report.embedded_chunks == report.chunks
    index = load_index(config.index_dir, build_settings(config, "hash", 256))
    assert index.manifest["chunk_tokens"] == 100


def test_corrupt_previous_index_is_rebuilt(built_config):
    path = current_dir(built_config.index_dir) / "chunks.jsonl"
    path.write_bytes(path.read_bytes()[:-10])
    report = build_index(built_config, embedder=HashEmbedder())
    assert report.added == ("alpha", "beta")
    assert len(load(built_config).chunks) == report.chunks


def test_failed_embedding_leaves_the_old_index_intact(built_config):
    before = snapshot(built_config)
    path = built_config.corpus_dir / "alpha.txt"
    path.write_text(path.read_text(encoding="utf-8") + "새 문단이다.\n", encoding="utf-8")
    with pytest.raises(RuntimeError, match="mid-way"):
        build_index(built_config, embedder=FailingEmbedder())
    assert snapshot(built_config) == before
    assert load(built_config).manifest["counts"]["documents"] == 2
    leftovers = [p.name for p in built_config.index_dir.parent.iterdir()
                 if p.name.startswith(".index.")]
    leftovers += [p.name for p in built_config.index_dir.iterdir() if p.name.startswith("tmp-")]
    assert leftovers == []


def test_progress_bar_gives_the_same_index(config, tmp_path, capsys):
    stages = []
    build_index(config, embedder=HashEmbedder(), progress=True,
                watch=Watch(on_progress=lambda stage, done, total: stages.append(stage)))
    err = capsys.readouterr().err
    # Every long stage draws a bar with its count (and rate); the caller's watch still
    # hears every step.
    assert "reading: 100%" in err and "chunking: 100%" in err and "embedding" in err
    assert "file/s" in err or "s/file" in err
    assert {"reading", "chunking", "embedding", "saving"} <= set(stages)
    other = config.replace(index_dir=tmp_path / "index2")
    build_index(other, embedder=HashEmbedder(), progress=False)
    assert (current_dir(config.index_dir) / "embeddings.npy").read_bytes() == \
        (current_dir(other.index_dir) / "embeddings.npy").read_bytes()


def test_chunk_ids_are_stable_across_builds(built_config, tmp_path):
    other = built_config.replace(index_dir=tmp_path / "again")
    build_index(other, embedder=HashEmbedder())
    first = [c.chunk_id for c in load(built_config).chunks]
    second = [c.chunk_id for c in load_index(
        other.index_dir, build_settings(other, "hash", 256)).chunks]
    assert first == second
    assert (current_dir(built_config.index_dir) / "chunks.jsonl").read_bytes() == \
        (current_dir(other.index_dir) / "chunks.jsonl").read_bytes()


def test_index_terms_include_the_section(corpus_dir):
    docs = {d.doc_id: d for d in read_corpus(corpus_dir).documents}
    chunks = [c for c in chunk_document(docs["alpha"], 64, 16)
              if c.section == "Ⅰ. 서론" and "서론" not in c.text]
    assert chunks
    terms = index_terms(chunks)[0]
    assert "서론" in terms          # only the section path says it
    assert {"데이터", "센터", "오픈", "소스", "모델", "공개"} <= set(terms)  # and the text


def test_index_terms_include_the_documents_title(tmp_path):
    # An article names its subject in its title and seldom again: every passage is found
    # by it, not only the first.
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "lake.txt").write_text(
        "바이칼 호수의 자연과 역사\n\n"
        + "세계에서 가장 깊은 호수로 수심은 1,642미터에 이른다. " * 20
        + "\n\n겨울에는 얼음 두께가 1미터를 넘고 그 위로 차가 다닌다.", encoding="utf-8")
    doc = read_corpus(corpus).documents[0]
    chunks = chunk_document(doc, 64, 16)
    assert len(chunks) > 2
    for terms in index_terms(chunks):
        assert "바이칼" in terms


def test_manifest_does_not_list_itself(built_config):
    manifest = load(built_config).manifest
    assert (current_dir(built_config.index_dir) / MANIFEST).is_file()
    assert MANIFEST not in manifest["files"]


def test_footnotes_are_indexed_with_the_sentence_citing_them(config):
    note = "1) Shenzhen to launch 10 bln yuan fund"
    citing_sentence = "선전시는 100억 위안 규모의 펀드를 조성하였다.1)"
    (config.corpus_dir / "gamma.txt").write_text(
        f"감마\n{citing_sentence} 이어지는 문장이다.\n"
        + "다른 내용의 문장이 길게 이어진다. " * 12 + f"\n{note}\n", encoding="utf-8")
    embedder = CountingEmbedder()
    build_index(config, embedder=embedder)
    index = load(config)
    rows = [i for i, c in enumerate(index.chunks) if c.doc_id == "gamma"]
    holding_note = [i for i in rows if note in index.chunks[i].text]
    citing = [i for i in rows if citing_sentence in index.chunks[i].text]
    assert holding_note and citing and not set(holding_note) & set(citing)
    # The note's chunk is found by the citing sentence's words…
    assert {"선전시", "펀드"} <= set(index.tokens[holding_note[0]])
    # …the note's sentence is embedded behind the citing sentence…
    assert f"{citing_sentence}\n{note}" in embedder.passages
    # …and the citing chunk is embedded with the note's English words.
    assert any(p.startswith(f"{note}\n") and citing_sentence in p for p in embedder.passages)


def test_footnote_context_off_indexes_the_note_alone(config):
    config = config.replace(footnote_context=False)
    (config.corpus_dir / "gamma.txt").write_text(
        "감마\n선전시는 펀드를 조성하였다.1) 이어진다.\n1) Shenzhen fund\n", encoding="utf-8")
    embedder = CountingEmbedder()
    build_index(config, embedder=embedder)
    assert "1) Shenzhen fund" in embedder.passages  # the note's sentence, alone
    assert not any(p.startswith("1) Shenzhen fund\n") for p in embedder.passages)
    assert not any(p.startswith("선전시는") and p.endswith("1) Shenzhen fund")
                   for p in embedder.passages)


def test_report_files_of_every_format_index_incrementally(config, monkeypatch):
    """PDF, DOCX and HWPX beside text: an unchanged file is neither parsed nor embedded
    again; a file replaced by another rendering is re-read and re-embedded alone."""
    from sample_files import REPORTS

    for fmt in ("pdf", "docx", "hwpx"):
        source = REPORTS / fmt / f"klid-china-ai-policy-2025.{fmt}"
        (config.corpus_dir / f"klid-{fmt}.{fmt}").write_bytes(source.read_bytes())
    first = build_index(config, embedder=HashEmbedder())
    assert set(first.added) == {"alpha", "beta", "klid-pdf", "klid-docx", "klid-hwpx"}
    stored = load(config).documents
    assert stored["klid-pdf"].format == "pdf" and len(stored["klid-pdf"].pages) == 7
    assert stored["klid-hwpx"].pages and stored["klid-docx"].pages

    import rag.ingest.collection as collection

    def no_parsing(*args, **kwargs):
        raise AssertionError("an unchanged report file was parsed again")

    with monkeypatch.context() as patch:
        # Every way a report file gets parsed: text files whole, the others from bytes.
        patch.setattr(collection, "document_from_bytes", no_parsing)
        patch.setattr(collection, "read_document",
                      lambda path, **kw: no_parsing() if path.suffix != ".txt"
                      else read_document(path, **kw))
        again = build_index(config, embedder_factory=no_embedder)
    assert again.up_to_date
    (config.corpus_dir / "klid-pdf.pdf").write_bytes(
        (REPORTS / "pdf" / "kistep-global-ai-china-2025.pdf").read_bytes())
    changed = build_index(config, embedder=HashEmbedder())
    assert changed.changed == ("klid-pdf",)
    assert len(load(config).documents["klid-pdf"].pages) == 12


def test_an_index_keeps_one_precision_and_its_questions_follow_it(built_config, monkeypatch,
                                                                  caplog):
    from rag import retrieval

    folder = current_dir(built_config.index_dir)
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["embed_precision"] == "fp32"  # the hashing model: no bf16 arithmetic
    # As if it had been embedded in bf16 on another machine:
    manifest["embed_precision"] = "bf16"
    (folder / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    seen = []
    monkeypatch.setattr(retrieval, "load_embedder",
                        lambda config: seen.append(config.embed_precision) or HashEmbedder())
    assert retrieval.Retriever(built_config).search("인공지능", k=1).hits
    assert seen == ["bf16"]
    with caplog.at_level(logging.WARNING, logger="rag.indexing"):
        report = build_index(built_config)
    assert "embedded in bf16" in caplog.text
    assert report.embedded_chunks == report.chunks
    assert load(built_config).manifest["embed_precision"] == "fp32"
