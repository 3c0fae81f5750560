"""Unit tests for every normalisation rule in core.text, with real snippets from the shared eval sets."""

from __future__ import annotations

import unicodedata

import pytest

from core import text as T


def test_mojibake_is_repaired_and_quotes_kept():
    assert T.fix_characters("Russiaâ€™s foreign minister") == "Russia’s foreign minister"
    assert T.fix_characters("“no-limits” partnership") == "“no-limits” partnership"


def test_control_and_zero_width_characters_are_removed():
    assert T.fix_characters("Ban\u200bgkok\x07 talks\ufeff") == "Bangkok talks"
    assert T.fix_characters("a\r\nb") == "a\nb"


def test_nfc():
    assert T.fix_characters("Cafe\u0301") == "Café"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        # seed 000: a stripped link left a space before the full stop
        (
            "further complicated by the war in Ukraine . Russia has",
            "further complicated by the war in Ukraine. Russia has",
        ),
        # CoNLL++ (tokenised Reuters): spaces before commas and full stops
        (
            "Japan began the defence of their Asian Cup title with a lucky 2-1 win against Syria in a Group C championship match on Friday .",
            "Japan began the defence of their Asian Cup title with a lucky 2-1 win against Syria in a Group C championship match on Friday.",
        ),
        (
            "U.S. officials said , the talks ( in Geneva ) failed .",
            "U.S. officials said, the talks (in Geneva) failed.",
        ),
        ("He did n't say , and they 're not sure .", "He didn't say, and they're not sure."),
        ('The " American Pie " star', 'The "American Pie" star'),
        ("rose 5 % to $ 7 billion", "rose 5% to $7 billion"),
        # one pattern at a time (each must get past fix_spacing's quick check on its own)
        ("talks ( in Geneva)", "talks (in Geneva)"),
        ("talks (in Geneva )", "talks (in Geneva)"),
        ("THEY DO N'T", "THEY DON'T"),
        ("It ’s late", "It’s late"),
        ("cost £ 5", "cost £5"),
        ("Friday !", "Friday!"),
        # dashes are kept as written
        (
            "Mr Blinken will use the meeting - which is a prelude",
            "Mr Blinken will use the meeting - which is a prelude",
        ),
    ],
)
def test_fix_spacing(raw, clean):
    assert T.fix_spacing(raw) == clean


def test_paragraphs_blank_line_separated():
    assert T.split_paragraphs("First  para\nwraps.\n\n\n\nSecond.") == ["First para wraps.", "Second."]


def test_paragraphs_newline_separated_jsonl():
    assert T.split_paragraphs("Line one.\nLine two.") == ["Line one.", "Line two."]


def test_paragraphs_reuters_hard_wrapped_with_indents():
    # reuters-1, first two paragraphs
    raw = (
        "Showers continued throughout the week in\nthe Bahia cocoa zone, alleviating the drought since early\n"
        "January.\n    The dry period means the temporao will be late this year.\n"
    )
    assert T.split_paragraphs(raw) == [
        "Showers continued throughout the week in the Bahia cocoa zone, alleviating the drought since early January.",
        "The dry period means the temporao will be late this year.",
    ]


@pytest.mark.parametrize(
    ("first", "place", "agencies", "rest"),
    [
        (
            "BALI (AFP, XINHUA) - Chinese Foreign Minister Wang Yi met",
            "Bali",
            ["AFP", "Xinhua"],
            "Chinese Foreign Minister Wang Yi met",
        ),
        ("SALVADOR, Feb 26 - Showers continued", "Salvador", [], "Showers continued"),
        ("WEST PALM BEACH, Fla. — A man was shot", "West Palm Beach, Fla.", [], "A man was shot"),
        ("PUYALLUP, Wash. — Police said", "Puyallup, Wash.", [], "Police said"),
        # GVA texts
        ("POCATELLO, Idaho (AP) - A couple charged", "Pocatello, Idaho", ["AP"], "A couple charged"),
        ("NORTH BRADDOCK (KDKA) — Police are investigating", "North Braddock", ["KDKA"], "Police are investigating"),
        ("LIVERMORE -- Livermore police on Sunday", "Livermore", [], "Livermore police on Sunday"),
        ("WASHINGTON, March 3 (Reuters) - The Senate", "Washington", ["Reuters"], "The Senate"),
    ],
)
def test_dateline_extracted(first, place, agencies, rest):
    dateline, body = T.extract_dateline(first)
    assert dateline["place"] == place
    assert dateline["agencies"] == agencies
    assert body == rest


@pytest.mark.parametrize(
    "first",
    [
        "Mr Blinken will use the meeting - which is a prelude to a leaders' summit",
        "US Secretary of State Antony Blinken will attend",
        "AL-AIN, United Arab Emirates 1996-12-06",
        "WARNING: graphic content follows",
        "Beijing and Moscow are expanding their strategic cooperation",
    ],
)
def test_no_false_datelines(first):
    assert T.extract_dateline(first) == (None, first)


def test_credits_trailing_sentence_and_byline():
    paras = [
        "By Rodney Thrash",
        "Police said the shooting happened overnight.",
        "No one was hurt. Additional reporting by Reuters",
    ]
    credits, body = T.extract_credits(paras)
    assert credits == ["By Rodney Thrash", "Additional reporting by Reuters"]
    assert body == ["Police said the shooting happened overnight.", "No one was hurt."]


@pytest.mark.parametrize(
    "line",
    [
        "Reporting by Victoria Cavaliere; Editing by Frances Kerry",
        "(Reporting by Jane Doe; Editing by Bob Roe)",
        "The Associated Press contributed to this report.",
        "Jacob Rason contributed to this report.",
        "Contributing: Ashlee Rezin",
    ],
)
def test_credit_lines_from_gva(line):
    credits, body = T.extract_credits(["Police said the shooting happened overnight.", line])
    assert credits == [line.strip("()")]
    assert body == ["Police said the shooting happened overnight."]


def test_agencies_from_credits():
    assert T.agencies_in_credits(
        ["Additional reporting by Reuters", "The Associated Press contributed to this report."]
    ) == [
        "Reuters",
        "AP",
    ]


@pytest.mark.parametrize(
    "line",
    [
        "You must enter the characters with black color that stand out from the other characters",
        "Please enable Javascript to watch this video",
        "Advertisement",
        "Copyright 2016 The Associated Press. All rights reserved. This material may not be published, broadcast, rewritten or redistributed.",
        "Email notifications are only sent once a day, and only if there are new matching items.",
        "Sign up for one of our email newsletters.",
        "Share this: Facebook",
        "Stay Up To Date, Follow KDKA On Twitter",
        "© 2016 Cox Media Group.",
        "###PPB###",
    ],
)
def test_boilerplate_lines_from_gva_are_dropped(line):
    assert T.is_boilerplate(line)


@pytest.mark.parametrize(
    "line",
    [
        "The investigation is ongoing.",
        "No arrests have been made.",
        "Police said Kaemon Robinson was playing with a pistol inside the Burning Tree Apartments around 7 p.m. when it discharged.",
        "Anyone with information is asked to call Crime Stoppers or share tips on Facebook.",
        "Email",  # alone it is furniture ...
    ][:4],
)
def test_real_sentences_are_never_boilerplate(line):
    assert not T.is_boilerplate(line)


def test_posted_header_keeps_headline_and_counts_removed():
    paras = [
        "Teen charged in fatal shooting of McGavock High School student Posted: Tuesday, January 28, 2014 8:18 PM EST Updated: Friday, February 28, 2014 8:27 PM EST",
        "A 17-year-old sophomore at McGavock High School in Nashville is charged with criminal homicide.",
        "Advertisement",
    ]
    kept, removed = T.remove_boilerplate(paras)
    assert kept == [
        "Teen charged in fatal shooting of McGavock High School student",
        "A 17-year-old sophomore at McGavock High School in Nashville is charged with criminal homicide.",
    ]
    assert removed == 2


def test_derived_title_is_lead_sentence_cut_at_word_boundary():
    text = "Chinese Foreign Minister Wang Yi met Russian counterpart Sergei Lavrov in Bali on Thursday (July 7) to discuss Moscow's invasion of Ukraine. More."
    title = T.derive_title(text)
    assert len(title) <= 110 and title.endswith("…")
    assert text.startswith(title[:-1])
    assert T.derive_title("Mr. Wang met Mr. Lavrov. Then they left.") == "Mr. Wang met Mr. Lavrov"


def test_dedup_key_of_ascii_text_drops_what_the_regex_drops():
    """ASCII text takes a translation table instead of the substitution; every ASCII character folds the same."""
    every = "".join(map(chr, range(128)))
    for text in (every, every[::-1], "Shr 1.20 dlrs vs_1.05 (C) #tag \x1c\x7f end"):
        folded = unicodedata.normalize("NFKC", text).translate(T._KEY_TRANSLATE).casefold()
        assert T.dedup_key(text) == " ".join(T._KEY_DROP.sub(" ", folded).split())
    assert T.dedup_key("a_b-c.d") == "a b c d"


def test_dedup_key_folds_whitespace_quotes_dashes_and_case():
    a = T.dedup_key("Russia’s “special  operation” — said   Lavrov.")
    b = T.dedup_key('russia\'s "special operation" - said Lavrov')
    assert a == b


def test_word_count():
    assert T.word_count("U.S. officials said the 28-nation alliance's plan failed.") == 8
