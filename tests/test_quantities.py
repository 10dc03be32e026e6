"""Figures read as values, with Korean and English scale words (golden cases by hand)."""

import pytest

from rag.quantities import (
    english_amount,
    figures,
    find_quantities,
    in_english,
    same_amount,
    same_value,
)


@pytest.mark.parametrize("text, values", [
    ("730억 위안(약 107억 달러)", [73e9, 10.7e9]),
    ("2,400억 달러, 8,270억 달러", [240e9, 827e9]),
    ("1조 5,000억 원", [1.5e12]),          # groups of falling scale add up
    ("5천억 원", [500e9]),                 # 천 before 억 multiplies: 5 × 10³ × 10⁸
    ("3천 명", [3e3]),
    ("600만 명에서 6배", [6e6, 6]),
    ("38,000건, 16%", [38e3, 16]),
    ("China Invests $8.2 Billion", [8.2e9]),
    ("a 10 bln yuan fund", [10e9]),
    ("2017–2020", [2017, 2020]),
    ("２，４００억", [240e9]),               # full-width digits are NFKC-normalised
])
def test_find_quantities_reads_values(text, values):
    found = [q.value for q in find_quantities(text)]
    assert len(found) == len(values)
    assert all(same_value(a, b) for a, b in zip(found, values)), found


def test_scale_words_must_follow_their_number_directly_in_korean():
    # "5 조직" is five organisations, not five trillion.
    assert [(q.value, q.scaled) for q in find_quantities("5 조직")] == [(5, False)]


def test_figures_skip_lone_digits_but_keep_scaled_ones():
    assert [q.written for q in figures("3단계, 6 million, 1/5, 2024년")] == ["6 million", "2024"]


@pytest.mark.parametrize(("text", "durations"), [
    ("over the next 6 years", [6]), ("향후 10년간", [10]), ("10여 년 동안", [10]),
    ("6개월 만에", [6]), ("3년 동안 3,800억 위안", [3]),
    # A calendar year and a multiple are no spans of time.
    ("2015년 중국", []), ("6배 증가", []), ("7% 증액", []),
])
def test_a_lone_digit_with_a_unit_of_time_is_a_figure(text, durations):
    assert [q.value for q in figures(text) if q.duration] == durations


@pytest.mark.parametrize("value, written", [
    (73e9, "73 billion"), (10.7e9, "10.7 billion"), (1.5e12, "1.5 trillion"),
    (6e6, "6 million"), (38_000, "38,000"), (2.5, "2.5"),
])
def test_english_amount(value, written):
    assert english_amount(value) == written


def test_in_english_rewrites_korean_scales_only():
    assert (in_english("텐센트는 730억 위안(약 107억 달러), 2024년 38,000건, $8.2 Billion")
            == "텐센트는 73 billion 위안(약 10.7 billion 달러), 2024년 38,000건, $8.2 Billion")


@pytest.mark.parametrize("text, currencies", [
    ("730억 위안(약 107억 달러)", ["CNY", "USD"]),
    ("$8.2 Billion, 380 billion euros", ["USD", "EUR"]),
    ("7,300억원, 5억 원을", ["KRW", "KRW"]),
    ("100억 원칙", [""]),               # 원 begins a word here, not a currency
])
def test_currency_follows_or_precedes_the_amount(text, currencies):
    assert [q.currency for q in find_quantities(text)] == currencies


def test_same_amount_needs_the_same_currency_where_both_name_one():
    yuan, = find_quantities("3,800억 위안")
    euros, bare = find_quantities("380 billion euros, 380 billion")
    assert not same_amount(euros, yuan)
    assert same_amount(bare, yuan)
