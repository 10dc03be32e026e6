"""Ingestion: report files of every supported format read into `Document`s with their
text, structure and page map."""

from .collection import CorpusReading, SkippedFile, corpus_files, read_corpus
from .document import Document
from .formats import SUFFIXES, read_document, sniff
from .plain import clean_text, decode_bytes, extract_title, make_doc_id

__all__ = [
    "SUFFIXES", "CorpusReading", "Document", "SkippedFile", "clean_text", "corpus_files",
    "decode_bytes", "extract_title", "make_doc_id", "read_corpus", "read_document", "sniff",
]
