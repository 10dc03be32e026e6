"""Test sets in the field's formats: format detection, SQuAD/KorQuAD, BEIR and simple
CSV/JSONL read into one shape, with clear errors for files that are none of them.

The fixtures are made up (citrus farming, baseball, housing, rail) and written in each
format by hand, so every offset below can be checked by eye."""

import json

import pytest

from rag.errors import QueryError
from rag.eval.beir import read_beir
from rag.eval.dataset import Span, detect_format, load_eval_set
from rag.eval.squad import PARAGRAPH_SEP, read_squad, write_squad

CITRUS_0 = "제주 감귤은 조선 시대부터 진상품으로 재배되었다. 2023년 감귤 생산량은 약 52만 톤이었다."
CITRUS_1 = "감귤 농가는 한파에 대비해 비닐하우스를 늘렸다. 하우스 감귤은 5월부터 9월까지 출하된다."
BASEBALL = ("야구 경기는 9이닝으로 진행되며 두 팀이 공격과 수비를 번갈아 한다. "
            "동점이면 연장전을 치른다.")
HANOK = ("한옥의 온돌은 아궁이에서 불을 때어 구들장을 데우는 난방 방식이다. "
         "대청마루는 여름철 통풍을 돕는다.")


def answer(text: str, context: str, shift: int = 0) -> dict:
    return {"text": text, "answer_start": context.index(text) + shift}


ARTICLES = [
    {"title": "제주_감귤", "paragraphs": [
        {"context": CITRUS_0, "qas": [
            {"id": "c1", "question": "2023년 제주 감귤 생산량은 얼마인가?",
             "answers": [answer("약 52만 톤", CITRUS_0), answer("52만 톤", CITRUS_0)]}]},
        {"context": CITRUS_1, "qas": [
            # The offset is three characters off: the reader finds the text again.
            {"id": "c2", "question": "하우스 감귤은 언제 출하되나?",
             "answers": [answer("5월부터 9월까지", CITRUS_1, shift=3)]},
            {"id": "c3", "question": "When was citrus first exported to Japan?",
             "answers": [], "is_impossible": True}]}]},
    {"title": "야구 규칙", "paragraphs": [
        {"context": BASEBALL, "qas": [
            {"id": "b1", "question": "야구 경기는 몇 이닝으로 진행되는가?",
             "answers": [answer("9이닝", BASEBALL)]}]}]},
    {"title": "한옥", "paragraphs": [
        {"context": HANOK, "qas": [
            {"id": "h1", "question": "구들장을 데우는 한옥의 난방 방식은?",
             "answers": [answer("온돌", HANOK)]},
            # An answer that is nowhere in its paragraph cannot be judged: left out.
            {"id": "h2", "question": "한옥 지붕의 재료는?",
             "answers": [{"text": "기와", "answer_start": 0}]}]}]},
]


@pytest.fixture
def squad_file(tmp_path):
    path = tmp_path / "dev.json"
    write_squad(path, ARTICLES)
    return path


def test_squad_articles_become_documents_with_spans_at_their_offsets(squad_file):
    eval_set = read_squad(squad_file)
    assert eval_set.format == "squad" and eval_set.unit == "chunk"
    docs = {d.key: d for d in eval_set.documents}
    assert list(docs) == ["제주-감귤", "야구-규칙", "한옥"]
    assert docs["제주-감귤"].title == "제주 감귤"  # SQuAD's underscores are spaces
    assert docs["제주-감귤"].text == f"제주 감귤\n\n{CITRUS_0}\n\n{CITRUS_1}\n"
    items = {i.id: i for i in eval_set.items}
    # The first paragraph starts after the title and a blank line.
    start = len("제주 감귤") + len(PARAGRAPH_SEP) + CITRUS_0.index("약 52만 톤")
    assert items["c1"].spans == (Span("제주-감귤", start, start + len("약 52만 톤")),
                                 Span("제주-감귤", start + 2, start + 2 + len("52만 톤")))
    assert items["c1"].answers == ("약 52만 톤", "52만 톤")
    for item in items.values():
        for span in item.spans:
            assert docs[span.doc].text[span.start:span.end] in item.answers
    assert items["c2"].spans[0].start == (len("제주 감귤") + 2 + len(CITRUS_0) + 2
                                          + CITRUS_1.index("5월부터"))
    assert items["c3"].type == "unanswerable" and not items["c3"].answerable
    assert items["c3"].lang == "en" and items["c1"].lang == "ko"
    assert items["h2"].type == "unanswerable" and items["h2"].spans == ()
    assert items["b1"].type == "span" and items["b1"].doc == "야구-규칙"
    assert any("1 answer offset" in n for n in eval_set.notes)
    assert any("1 answer(s) not found" in n for n in eval_set.notes)


def test_squad_titles_that_collide_get_distinct_keys(tmp_path):
    path = tmp_path / "twice.json"
    write_squad(path, [{"title": "같은 제목", "paragraphs": []},
                       {"title": "같은 제목", "paragraphs": [{"context": BASEBALL, "qas": [
                           {"id": "x", "question": "몇 이닝인가?",
                            "answers": [answer("9이닝", BASEBALL)]}]}]}])
    keys = [d.key for d in read_squad(path).documents]
    assert len(set(keys)) == 2


@pytest.mark.parametrize(("data", "message"), [
    ({"data": "no"}, "'data' must be a list"),
    ({"data": [{"title": "t"}]}, "has no 'paragraphs' list"),
    ({"data": [{"title": "t", "paragraphs": [{"qas": []}]}]}, "no 'context' string"),
    ({"data": [{"title": "t", "paragraphs": [{"context": "c", "qas": [
        {"id": "1", "question": " ", "answers": []}]}]}]}, "is empty"),
])
def test_malformed_squad_is_a_clear_error(tmp_path, data, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(QueryError, match=message):
        read_squad(path)


RAIL = {"_id": "doc-rail", "title": "고속철도", "text": "고속철도는 시속 300킬로미터로 달린다."}
TIDE = {"_id": "doc tide", "title": "", "text": "밀물과 썰물은 하루에 두 번 바뀐다."}
SALT = {"_id": "doc-salt", "title": "천일염", "text": "천일염은 바닷물을 햇볕에 말려 얻는다."}


def write_beir(folder, qrels="query-id\tcorpus-id\tscore\nq1\tdoc-rail\t2\nq1\tdoc-salt\t0\n"
               "q2\tdoc tide\t1\n", split="test"):
    (folder / "qrels").mkdir(parents=True)
    (folder / "corpus.jsonl").write_text(
        "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in (RAIL, TIDE, SALT)),
        encoding="utf-8")
    queries = [{"_id": "q1", "text": "고속철도의 속도는?"},
               {"_id": "q2", "text": "How often do tides turn?"},
               {"_id": "q3", "text": "소금은 어떻게 만드나?"}]  # judged in no split: not asked
    (folder / "queries.jsonl").write_text(
        "".join(json.dumps(q, ensure_ascii=False) + "\n" for q in queries), encoding="utf-8")
    (folder / "qrels" / f"{split}.tsv").write_text(qrels, encoding="utf-8")
    return folder


def test_beir_folder_is_judged_per_document(tmp_path):
    folder = write_beir(tmp_path / "set")
    assert detect_format(folder) == "beir"
    eval_set = read_beir(folder)
    assert eval_set.unit == "doc"
    assert [d.key for d in eval_set.documents] == ["doc-rail", "doc tide", "doc-salt"]
    assert eval_set.documents[0].text == "고속철도\n\n고속철도는 시속 300킬로미터로 달린다.\n"
    assert eval_set.documents[1].title == "doc tide"  # no title: the id names it
    items = {i.id: i for i in eval_set.items}
    assert list(items) == ["q1", "q2"]
    assert items["q1"].qrels == (("doc-rail", 2), ("doc-salt", 0))
    assert items["q2"].lang == "en" and items["q2"].answerable


def test_beir_without_a_header_or_test_split(tmp_path):
    folder = write_beir(tmp_path / "set", qrels="q1\tdoc-rail\t1\n", split="dev")
    assert [i.id for i in read_beir(folder).items] == ["q1"]
    with pytest.raises(QueryError, match=r"no train\.tsv"):
        read_beir(folder, split="train")


@pytest.mark.parametrize(("qrels", "message"), [
    ("q1\tdoc-rail\n", "is not 'query-id<TAB>corpus-id<TAB>score'"),
    ("q1\tdoc-none\t1\n", "no such document"),
])
def test_bad_beir_qrels_are_clear_errors(tmp_path, qrels, message):
    folder = write_beir(tmp_path / "set", qrels=qrels)
    with pytest.raises(QueryError, match=message):
        read_beir(folder)


def test_beir_folder_without_qrels(tmp_path):
    folder = write_beir(tmp_path / "set")
    (folder / "qrels" / "test.tsv").unlink()
    with pytest.raises(QueryError, match="no qrels"):
        load_eval_set(folder)


def test_simple_csv_with_answer_lists(tmp_path):
    path = tmp_path / "set.csv"
    path.write_text("question,answers\n"
                    "고속철도의 최고 속도는?,300킬로미터|시속 300킬로미터\n"
                    '천일염은 어떻게 얻나?,"[""햇볕에 말려""]"\n'
                    "달의 온도는?,\n", encoding="utf-8-sig")  # Excel's BOM
    eval_set = load_eval_set(path)
    assert eval_set.format == "simple" and eval_set.documents == ()
    items = eval_set.items
    assert [i.id for i in items] == ["q00002", "q00003", "q00004"]
    assert items[0].answers == ("300킬로미터", "시속 300킬로미터")
    assert items[1].answers == ("햇볕에 말려",)
    assert items[2].answers == () and not items[2].answerable
    assert items[2].type == "unanswerable" and items[0].type == "answerable"


def test_simple_jsonl_with_one_answer_and_tsv(tmp_path):
    path = tmp_path / "set.jsonl"
    path.write_text(json.dumps({"id": "r1", "question": "What turns twice a day?",
                                "answer": "밀물과 썰물"}, ensure_ascii=False) + "\n",
                    encoding="utf-8")
    assert detect_format(path) == "simple"
    (item,) = load_eval_set(path).items
    assert (item.id, item.lang, item.answers) == ("r1", "en", ("밀물과 썰물",))
    tsv = tmp_path / "set.tsv"
    tsv.write_text("question\tanswer\n야구는 몇 이닝인가?\t9이닝|아홉 이닝\n", encoding="utf-8")
    # One `answer` is one answer, even with a "|" in it.
    assert load_eval_set(tsv).items[0].answers == ("9이닝|아홉 이닝",)


def test_detection_of_every_format(tmp_path, squad_file):
    own = tmp_path / "own.jsonl"
    own.write_text(json.dumps({"id": "k", "lang": "ko", "question": "q", "doc": "d",
                               "evidence": "e", "answers": ["a"], "type": "fact"}) + "\n",
                   encoding="utf-8")
    assert detect_format(own) == "own"
    assert detect_format(squad_file) == "squad"
    assert load_eval_set(squad_file).format == "squad"
    assert load_eval_set(own, "own").items[0].evidence == "e"


@pytest.mark.parametrize(("name", "content", "message"), [
    ("empty.jsonl", "", "holds no questions"),
    ("list.json", "[1, 2]", "cannot tell the format"),
    ("broken.json", '{"data": [', "is not valid JSON"),
    ("broken.jsonl", "{nope\n", "is not valid JSON"),
    ("no-question.jsonl", '{"query": "x"}\n', "cannot tell the format"),
    # A record with the project's evidence field but other fields missing is reported
    # as the project's format with what it lacks, not silently read as another.
    ("partial.jsonl", '{"question": "x", "evidence": "y"}\n', "lacks the field"),
    ("blank.csv", "question,answer\n ,x\n", "needs a non-empty 'question'"),
    ("header.csv", "q,a\nx,y\n", "needs a header row with a 'question' column"),
])
def test_files_in_no_known_format_are_clear_errors(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(QueryError, match=message):
        load_eval_set(path)


def test_a_folder_that_is_not_beir(tmp_path):
    with pytest.raises(QueryError, match="not a BEIR set"):
        detect_format(tmp_path)


def test_duplicate_ids_and_unknown_format(tmp_path):
    path = tmp_path / "dup.jsonl"
    path.write_text('{"id": "a", "question": "x?"}\n{"id": "a", "question": "y?"}\n',
                    encoding="utf-8")
    with pytest.raises(QueryError, match="'a' twice"):
        load_eval_set(path)
    with pytest.raises(QueryError, match="unknown test-set format"):
        load_eval_set(path, "trec")
