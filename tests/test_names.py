"""Names across scripts: extraction from English text, sound keys, and passages that name them."""

import pytest

from rag.bm25 import tokenize_korean
from rag.glossary import Term
from rag.names import (
    Passage,
    Places,
    english_names,
    mentions,
    missing_names,
    names_of,
    sound_key,
)

TENCENT = Passage("텐센트는 2024년 AI에 730억 위안(107억 달러)을 투자했음",
                  "kistep-global-ai-china-2025 글로벌 AI 패권 경쟁 : 중국 동향과 시사점",
                  ["텐센트", "2024", "년", "ai", "730", "억", "위안", "투자"])
INSTITUTE = Passage("선전시는 100억 위안 규모의 AI 펀드를 조성했음",
                    "klid-china-ai-policy-2025 한국지능정보사회진흥원 중국 AI 정책",
                    ["선전시", "100", "억", "위안", "규모", "ai", "펀드", "조성"])
# IDF of names in most passages: they are never required.
IDF = {"ai": 0.1, "중국": 0.2, "텐센트": 3.0, "선전시": 3.5}


@pytest.mark.parametrize(("latin", "hangul", "key"), [
    # By hand: T-e-N-(c→S)-e-N-T and ㅌ-ㄴ / ㅅ-ㄴ / ㅌ.
    ("Tencent", "텐센트", "TNSNT"),
    # sh → S, zh → S; 선 = ㅅㄴ, 전 = ㅈㄴ (ㅈ and ㅅ are one class).
    ("Shenzhen", "선전", "SNSN"),
    # ck → K once (repeats collapse), s → S; 맥 = ㅁㄱ, 킨 = ㅋㄴ, 지 = ㅈ.
    ("McKinsey", "맥킨지", "MKNS"),
    # v → P, d → T; 엔 has a silent ㅇ then ㄴ.
    ("Nvidia", "엔비디아", "NPT"),
    # ng is one sound, like a final ㅇ.
    ("Hangzhou", "항저우", "HGS"),
    ("DeepSeek", "딥시크", "TPSK"),
])
def test_latin_spelling_and_hangul_transliteration_share_a_key(latin, hangul, key):
    assert sound_key(latin) == sound_key(hangul) == key


def test_different_names_have_different_keys():
    assert sound_key("Moonshot") != sound_key("텐센트")
    assert sound_key("Baidu") != sound_key("바이트댄스")


@pytest.mark.parametrize(("question", "names"), [
    ("How much funding has Moonshot AI raised?", ["Moonshot AI"]),
    ("Roughly how does the H20's performance stack up against the H100's?", ["H20", "H100"]),
    ("Which KISTEP center is co-author Joo Kyung-won (주경원) from?",
     ["KISTEP", "Joo Kyung-won"]),
    ("How many GPUs were used to train DeepSeek-V3?", ["GPU", "DeepSeek-V3"]),
    # A possessive ends a name: the EU and its InvestAI are each looked for.
    ("When was OpenAI's o1-mini released?", ["OpenAI", "o1-mini"]),
    ("How large is the EU's InvestAI initiative?", ["EU", "InvestAI"]),
    ("Which agency will require labeling from September 2025 per Table 2?", []),
    ("Where are the Chinese-born researchers working?", ["Chinese-born"]),
    # Compass points qualify a name: 동중국 is East China, 한국 South Korea.
    ("What growth is the East China computing hub expected to post?", ["China"]),
    ("How many patents did South Korea file?", ["Korea"]),
])
def test_english_names_are_capitalised_runs_acronyms_and_model_ids(question, names):
    assert english_names(question) == names


def test_names_of_korean_text_are_proper_nouns_and_latin_words():
    assert {"텐센트", "hunyuan"} <= set(names_of("텐센트 HUNYUAN 모델의 매개변수 수는?", "ko"))
    assert names_of("How much did Tencent invest?", "en") == ["Tencent"]


def test_a_korean_question_names_its_model_ids():
    # Kiwi reads 딥시크-R1 as 딥시크, R and 1; R1 (not V3) is what the question is about.
    assert names_of("딥시크-R1의 학습 비용은 얼마인가?", "ko") == ["딥시크", "r1"]
    assert names_of("화웨이 어센드 910C의 성능은?", "ko")[-1] == "910c"
    assert "12" not in " ".join(names_of("K-12 과정에 AI를 통합한 시점은?", "ko"))


@pytest.mark.parametrize(("names", "missing"), [
    (["Tencent"], []),                 # 텐센트, by sound
    (["Moonshot AI"], ["Moonshot AI"]),  # AI is common; Moonshot is named nowhere
    (["Japan"], ["Japan"]),            # 일본 is not in the passage
    (["China"], []),                   # in most passages: never required
    (["Shenzhen"], []),                # 선전 of 선전시
    (["텐센트"], []),
    (["딥시크"], ["딥시크"]),
    (["AI Promotion Law"], []),        # the reports' own pair 인공지능 진흥법(AI Promotion Law)
])
def test_missing_names_in_the_passages(names, missing):
    law = Passage("양회에서 인공지능 진흥법을 제안했음", "klid-china-ai-policy-2025",
                  ["양회", "인공", "지능", "진흥", "법", "제안"])
    glossary = [Term("AI Promotion Law", "인공지능 진흥법", "klid-china-ai-policy-2025")]
    assert missing_names(names, Places.of([TENCENT, INSTITUTE, law]), IDF, glossary) == missing


def test_an_acronym_is_never_matched_by_sound():
    # IBM's consonants (b, m) are those of 범위; Korean spells an acronym's letters out.
    scope = Passage("AI 적용 범위를 넓혔다", "x", ["ai", "적용", "범위"])
    assert sound_key("IBM") == sound_key("범위") == "PM"
    assert missing_names(["IBM"], Places.of([scope]), IDF) == ["IBM"]


def test_a_capitalised_common_noun_is_named_by_its_korean_gloss():
    # "Artificial Intelligence" is no name the reports write; they write 인공지능.
    academy = Passage("베이징 인공지능 아카데미는 오픈소스를 배포", "x",
                      ["베이징", "인공", "지능", "아카데미", "오픈소스", "배포"])
    glosses = {"artificial": ("인공",), "intelligence": ("인공", "지능")}.get
    names = ["Artificial Intelligence", "Moonshot"]
    assert missing_names(names, Places.of([academy]), IDF) == names
    assert missing_names(names, Places.of([academy]), IDF,
                         glosses=lambda w: glosses(w.lower(), ())) == ["Moonshot"]


def test_a_model_id_is_never_matched_by_sound():
    # o1-mini's consonants (m, n) are those of 만; its digits are what name it.
    users = Passage("출시 7일 만에 1억 명 사용자 증가", "x", ["출시", "7", "일", "만", "사용자"])
    assert sound_key("o1-mini") == sound_key("만") == "MN"
    assert missing_names(["o1-mini"], Places.of([users]), IDF) == ["o1-mini"]


def test_a_hyphenated_name_needs_its_model_id_too():
    v3 = Passage("딥시크는 V3 모델을 개발하는데 약 560만 달러를 투자", "kistep", ["딥시크", "v3"])
    r1 = Passage("딥시크-R1 모델은 오픈소스로 공개", "kistep", ["딥시크", "r", "1"])
    glossary = [Term("DeepSeek", "딥시크", "kistep")]
    assert missing_names(["DeepSeek-R1"], Places.of([v3]), IDF, glossary) == ["DeepSeek-R1"]
    assert missing_names(["DeepSeek-R1"], Places.of([r1]), IDF, glossary) == []
    # A tail that is no model id still needs only the head.
    assert missing_names(["DeepSeek-based"], Places.of([v3]), IDF, glossary) == []


def test_a_country_named_only_in_a_title_is_not_named():
    # 한국 is in the institute's name, not in what the passage says.
    assert missing_names(["Korea"], Places.of([INSTITUTE]), IDF) == ["Korea"]
    assert missing_names(["KLID"], Places.of([INSTITUTE]), IDF) == []  # the report's id names it


def test_a_korean_name_is_named_by_the_title_of_the_document_it_is_about():
    # A document's sentences seldom repeat what its title names.
    phone = Passage("배터리 용량은 내장형 3,000 mAh이다.", "한빛-스마트폰-X9 한빛 스마트폰 X9",
                    ["배터리", "용량", "내장형", "3,000", "mah"])
    poet = Passage("그는 1925년 첫 시집을 펴냈다.", "김소월의 생애", ["그", "1925", "시집"])
    assert missing_names(["한빛", "스마트폰 X9"], Places.of([phone]), IDF) == []
    assert missing_names(["김소월"], Places.of([poet]), IDF) == []  # a particle after it
    # Whole words only: 한국 inside an institute's name is not the country, and another
    # document's subject is not this one's.
    assert missing_names(["한국"], Places.of([INSTITUTE]), IDF) == ["한국"]
    assert missing_names(["한빛", "윤동주"], Places.of([phone, poet]), IDF) == ["윤동주"]


def test_no_passages_miss_every_uncommon_name():
    assert missing_names(["Tencent", "AI"], Places.of([]), IDF) == ["Tencent"]


@pytest.mark.parametrize(("name", "named"), [
    ("딥시크", True),
    ("디시크", True),     # one jamo off: the model's misspelling of 딥시크
    ("선전시", True),     # the passage says 선전
    ("바이두", False),    # a swapped company is two jamo off 바이트
    ("ernie", False),
])
def test_a_name_is_found_as_written_without_its_suffix_or_one_jamo_off(name, named):
    assert mentions("딥시크는v3모델을개발했다선전ai개발사례바이트댄스", name) is named


@pytest.mark.parametrize(("text", "name", "named"), [
    ("한빛건설은판교사옥을준공했다", "한빛건설의", True),     # genitive left on the name
    ("드라마봄날은시청률20%를기록했다", "봄날은", True),      # topic particle
    ("서해대교를건넜다", "서해대교에서", True),
    ("한빛건설은판교사옥을준공했다", "누리건설의", False),    # another name stays missing
    ("가나다", "가의", False),                                   # too short a stem to count
])
def test_a_particle_left_on_a_korean_name_is_not_part_of_it(text, name, named):
    assert mentions(text, name) is named


def test_a_korean_question_word_is_never_a_name():
    for question in ("누가 이 은행의 행장을 임명하는가?", "무엇이 가격 상승을 불렀나?"):
        assert not {"누가", "무엇"} & set(names_of(question, "ko"))


@pytest.mark.parametrize(("question", "passage"), [
    # Korean's standard names for countries that no sound key links to their English.
    ("How many tourists visited Australia in 2023?", "2023년 호주를 찾은 관광객은 900만 명이었다."),
    ("What is Switzerland's watch export value?", "스위스의 시계 수출액은 260억 프랑이었다."),
    ("How much cheese does the Netherlands export?", "네덜란드의 치즈 수출량은 늘었다."),
])
def test_countries_are_found_by_their_korean_standard_names(question, passage) -> None:
    names = names_of(question, "en")
    places = Places.of([Passage(passage, "travel-report", tuple(tokenize_korean(passage)))])
    assert names and not missing_names(names, places, {}, [], lambda word: ())
