"""The kind of answer a question asks for, and whether a sentence gives it."""

import pytest

from rag.answer_kind import DATE, NUMBER, RANK, SHARE, asked_slot, focus_of, kind_of, states
from rag.lexicon import build_lexicon


@pytest.mark.parametrize(("question", "kind"), [
    ("오픈AI o1-mini 모델의 출시일은 언제인가?", DATE),
    ("Phase 4 미래 전략이 다루는 기간은?", DATE),
    ("중국이 K-12 과정에 AI를 통합하기 시작한 시점은?", DATE),
    ("중국이 AI 표준화 기술 위원회를 구성하기 시작한 시기는?", DATE),
    ("2024년 기준 중국 AI 기업은 전 세계 AI 기업의 약 몇 %를 차지하는가?", SHARE),
    ("2024년 중국의 산업 현장 AI 적용 비중은?", SHARE),
    ("바이두 Ernie Bot의 매개변수 수는 몇 개인가?", NUMBER),
    ("딥시크-R1 모델의 매개변수 수는?", NUMBER),
    ("텐센트가 2024년 AI에 투자한 금액은?", NUMBER),
    ("When did Phase 3, implementation and expansion, begin?", DATE),
    ("As of when had Shenzhen set up its AI fund?", DATE),
    ("By what year does China aim to become an AI powerhouse?", DATE),
    ("What share of TSMC's revenue comes from China?", SHARE),
    ("How many parameters does Huawei's Pangu model have?", NUMBER),
    ("How large is Shenzhen's AI fund?", NUMBER),
    ("How long did it take DeepSeek to add 100 million users?", NUMBER),
    ("What salary does China offer overseas AI researchers?", NUMBER),
    ("What is the annual research budget of Alibaba's DAMO Academy?", NUMBER),
    ("What is the population of Shenzhen?", NUMBER),
    ("What tax rate do AI companies pay in China?", SHARE),
    # A share or a rate a few words after "what".
    ("What market share do Huawei's Ascend chips hold in China?", SHARE),
    ("What is China's self-sufficiency rate for AI chips?", SHARE),
    # A rank is its own kind: "10위권" is no count, and "몇 번째" no number.
    ("KLID 글에 따르면 중국의 AI 기업 보유 수는 세계 몇 번째인가?", RANK),
    ("중국의 생성형 AI 특허 출원 순위는?", RANK),
    ("What rank does China hold in generative AI patents?", RANK),
    ("What is the maximum fine under China's Personal Information Protection Law?", NUMBER),
])
def test_kind_of_reads_the_cue(question, kind):
    assert kind_of(question) == kind


@pytest.mark.parametrize("question", [
    "딥시크의 창업자는 누구인가?",
    # 시기 only names a period here; the question asks for a focus, not a date.
    "Phase 1 시기 중국 AI 전략은 산업의 무엇에 초점을 맞추었는가?",
    "알리바바가 기술 자립 강화를 위해 활용하는 것은 무엇인가?",
    # "when" as a conjunction asks for no date.
    "What did Xi Jinping pledge when he met heads of major tech companies?",
    "Which regional computing hub does Shanghai plan to build?",
])
def test_questions_that_ask_for_no_figure_have_no_kind(question):
    assert kind_of(question) is None


@pytest.mark.parametrize(("text", "kind", "expected"), [
    ("Phase 2: 종합 로드맵 구축(2017–2020)", DATE, True),
    ("(2025.3.27, 서행아, 주경원)", DATE, True),
    ("2025년 2월 기준", DATE, True),
    ("향후 10년 동안 해외 인재 유치 강화", DATE, True),
    ("높은 연봉과 연구 지원 제공 프로그램을 운영", DATE, False),
    ("생산 수율을 40%까지 향상", SHARE, True),
    ("전년대비 3배 증가한 730억 위안", SHARE, True),
    ("730억 위안(약 107억 달러)을 투자", NUMBER, True),
    ("2.5억 명에 육박", NUMBER, True),
    ("중국 주요 세 개 도시", NUMBER, True),
    # A model's name and a date are not the figure a "how many?" asks for.
    ("딥시크-R1과 알리바바 QwQ-32B, 바이두 Ernie Bot 등은 격차를 좁히는 LLM으로 평가", NUMBER,
     False),
    ("2025년 9월부터 라벨링을 의무화", NUMBER, False),
    ("산업 현장 AI 적용 비중이 늘어났다.6)", NUMBER, False),
    # A table's or a phase's number counts nothing.
    ("〈표 1〉 중국 대표적 AI 정책(2017~)", NUMBER, False),
    ("Phase 2: 종합 로드맵 구축(2017–2020)", NUMBER, False),
    ("Phase 2: 종합 로드맵 구축(2017–2020)", DATE, True),
    # A rank answers "몇 번째?", not "how many?"; a yuan is no rank.
    ("텐센트, 바이두 등 중국 기업들이 다출원 기업 10위권 내에 대거 포함", NUMBER, False),
    ("텐센트, 바이두 등 중국 기업들이 다출원 기업 10위권 내에 대거 포함", RANK, True),
    ("미국에 이어 2번째로 많은 AI 기업 보유", RANK, True),
    ("미국에 이어 두 번째로 많은 AI 기업 보유", RANK, True),
    ("총 38,000건으로, 2위인 미국(6276건)의 6배", NUMBER, True),
    ("1위안당 전력 비용", RANK, False),
])
def test_states_finds_the_kind_in_a_sentence(text, kind, expected):
    assert states(text, kind) is expected


def test_states_rejects_an_unknown_kind():
    with pytest.raises(ValueError, match="unknown answer kind 'colour'"):
        states("빨강", "colour")


@pytest.mark.parametrize(("question", "focus"), [
    # The noun the asking word asks of, past particles, bound nouns and figure nouns.
    ("중국이 해외 AI 인재에게 제시하는 연봉은 얼마인가?", ("연봉",)),
    ("바이두 Ernie Bot의 매개변수 수는 몇 개인가?", ("매개변수",)),
    ("2024년 기준 중국 내 AI 기업 수는 약 몇 개인가?", ("기업",)),
    ("중국은 AI 연구개발(R&D) 예산을 매년 얼마나 증액하고 있는가?", ("예산",)),
    ("2030년 AI 시장 규모는 얼마에 이를 것으로 전망되는가?", ("시장",)),
    # A date is asked of the event the verbal noun after the cue names.
    ("텐센트 HUNYUAN 모델은 언제 출시되었는가?", ("출시",)),
    ("'차세대 인공지능 발전계획'은 몇 년에 발표되었는가?", ("발표",)),
    # A verbal noun before the cue is stated otherwise ("데이터 보안법(2021)"): nothing to
    # require.
    ("중국이 '데이터 보안법'을 제정한 연도는?", ()),
    ("텐센트가 2024년 AI에 투자한 금액은?", ()),
    ("딥시크의 창업자는 누구인가?", ()),
    # A rank is stated against others, not beside the scope it ranks in.
    ("중국의 AI 기업 보유 수는 세계 몇 번째인가?", ()),
    ("중국의 생성형 AI 특허 출원 순위는?", ()),
    # A currency is the figure's unit, not what it is of.
    ("딥시크가 V3 모델 개발에 들인 비용은 원화로 약 얼마인가?", ("비용",)),
])
def test_focus_of_a_korean_question(question, focus):
    assert focus_of(question) == focus


LEXICON = build_lexicon({"연봉": ("salary", "wage"), "탄소": ("carbon",), "성능": ("performance",),
                         "사용자": ("user",), "연도": ("year",), "세금": ("tax",),
                         "비용": ("cost", "expense"), "투자": ("investment",),
                         "설립": ("founding", "establishment")})


@pytest.mark.parametrize(("question", "focus"), [
    ("What salary does China offer overseas AI researchers?", ("연봉",)),
    # A unit (tons) and a figure word (rate) say what kind of figure, not what it is of.
    ("How many tons of carbon do China's AI data centers emit each year?", ("탄소",)),
    ("What tax rate do AI companies pay in China?", ("세금",)),
    ("How many generative AI users did China have as of February 2025?",
     ("generative", "사용자")),
    # A word the lexicon does not know must be found as written (a plural's s off): no
    # Korean word of the reports is glossed with it.
    ("How many employees does DeepSeek have?", ("employee",)),
    ("What is the unit price of Huawei's Ascend 910C?", ("unit", "price")),
    ("What was ByteDance's revenue in 2024?", ("revenue",)),
    ("How many students graduate from AI degree programmes each year?", ("student",)),
    # A money verb and a passive "when" event count only when the lexicon knows them.
    ("How much did it cost to train DeepSeek-R1?", ("비용",)),
    ("How much did Tencent invest in AI in 2024?", ("투자",)),
    ("How much does China spend on importing AI chips each year?", ()),
    ("When was DeepSeek founded?", ("설립", "창립", "창업")),
    # The reports' verbal nouns for common events come from a table: the lexicon glosses
    # "launched" with nothing and "approved" with 확정. The participle may stand before a
    # phrase of place or manner.
    ("When was Tencent's HUNYUAN model launched?", ("출시", "공개", "발표", "출범", "선보")),
    ("When were the first generative AI services approved in China?",
     ("승인", "허가", "통과", "비준")),
    ("When was the China-led UN resolution on AI capacity-building adopted?",
     ("채택", "도입")),
    ("When was Baidu's Ernie Bot released to the public?", ("출시", "공개", "발표", "선보")),
    # "what year" asks for a date and names nothing it is of.
    ("In what year did China launch its 'Internet Plus' AI strategy?", ()),
    # A rank's cue word is no topic, and a rank is stated against the others ranked.
    ("What rank does China hold in generative AI patents?", ()),
    ("Which place does China take in the number of AI companies?", ()),
    # A compound the lexicon does not know is glossed through its head.
    ("How many high-performance computing nodes does Shanghai plan to have?",
     ("성능", "computing", "node")),
    ("What is China's self-sufficiency rate for AI chips?", ("self-sufficiency",)),
    # A law's entry into force.
    ("When does China's AI Promotion Law take effect?", ("시행", "발효")),
])
def test_focus_of_an_english_question_comes_from_the_lexicon(question, focus):
    assert focus_of(question, LEXICON) == focus
    # Without a lexicon (no LLM glossed the reports) nothing can be checked.
    assert focus_of(question) == ()
    assert focus_of(question, build_lexicon({})) == ()


@pytest.mark.parametrize("question, slot", [
    ("시청이 새 청사를 지은 장소는 어디인가?", "장소"),
    ("그 병원이 문을 연 해는 몇 년인가?", "해"),
    ("조합이 파업을 멈춘 이유는 무엇인가?", "이유"),
    ("구단이 새 감독에게 준 돈은?", "돈"),
    ("연구소가 백신 개발에 쓴 금액은?", "금액"),
    ("그 소설의 원래 제목은?", "제목"),
    ("박물관 개관 시기는 언제였는가?", "시기"),
])
def test_the_noun_for_what_is_asked_is_found(question: str, slot: str) -> None:
    assert asked_slot(question) == slot


@pytest.mark.parametrize("question", [
    "국내 전기차 기업은 몇 개인가?",      # 기업 is what is counted: a topic
    "그 영화의 감독은?",                  # a role, named beside the answer
    "이 시기에 시청은 무엇을 했나?",      # 시기 is the topic of a verb of its own
    "2023년 수출 실적을 요약하라",        # no question word, no topic particle
])
def test_a_topic_is_no_asked_noun(question: str) -> None:
    assert asked_slot(question) is None


@pytest.mark.parametrize("text, expected", [
    ("어선 세 척이 태풍에 파손되었다", True),
    ("시인은 그해 시 두 편을 발표했다", True),
    ("농가 열 곳이 지원을 받았다", True),
    ("소 다섯 마리가 구조되었다", True),
    ("한편 정부는 새 계획을 발표했다", False),      # 한편: meanwhile
    ("세대 간 소득 격차가 커졌다", False),           # 세대: a generation
    ("두부 가격이 올랐다", False),
    ("배관 세척 작업이 끝났다", False),
    ("역세권 개발이 추진되었다", False),
])
def test_korean_number_words_with_their_counters_are_figures(text, expected):
    assert states(text, NUMBER) is expected


def test_a_century_is_a_date():
    assert states("이 민요는 19세기 말에 처음 기록되었다", DATE)


@pytest.mark.parametrize("question", [
    "홍수로 실종된 사람은 몇 명인가?",
    "시장이 예산안을 발표한 날은 언제인가?",
])
def test_the_noun_for_what_is_asked_is_no_focus(question):
    assert focus_of(question) == ()


@pytest.mark.parametrize(("question", "kind"), [
    ("그 다리의 공사 기간은 얼마인가?", DATE),          # the asked-for noun before 얼마
    ("구청이 새 도서관을 연 시점은?", DATE),
    ("보험사가 지급한 보상 금액은?", NUMBER),
    ("국내 전기차 시장에서 수입차의 점유율은?", SHARE),
])
def test_an_asked_for_noun_gives_the_kind(question, kind):
    assert kind_of(question) == kind


@pytest.mark.parametrize("question", [
    "최대 규모의 파업을 이끈 노조는 어디인가?",         # 규모 is no asked-for noun here
    "대규모 집회를 막으려고 경찰이 봉쇄한 곳은?",
    "작가의 출생 시점, 그 마을은 어느 나라에 속했는가?",
    "점유율이 가장 높은 기업은?",
    "그 선수가 은퇴한 해는?",      # an asked-for noun that is no kind cue (measured)
])
def test_a_kind_noun_elsewhere_in_the_question_asks_for_no_figure(question):
    assert kind_of(question) is None
