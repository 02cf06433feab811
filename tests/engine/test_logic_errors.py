"""Rule logic that does not parse or does not fit the facts schema is rejected, each problem
with a message and the 1-based column where it is."""

import pytest

from rules.engine import LogicInvalid, check_logic, compile_logic


def problems(text: str) -> list[tuple[str, int]]:
    with pytest.raises(LogicInvalid) as caught:
        compile_logic(text)
    assert caught.value.text == text
    return [(p.message, p.position) for p in caught.value.problems]


# --- syntax --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "position", "words"),
    [
        pytest.param("(age_years < 18", 16, "expected ')'", id="unclosed-parenthesis"),
        pytest.param("takes_maoi and (age_years < 18", 31, "column 16", id="names-the-opening"),
        pytest.param("age_years < 18)", 15, "unexpected ')'", id="extra-closing-parenthesis"),
        pytest.param("(age_years < 18))", 17, "unexpected ')'", id="one-closing-too-many"),
        pytest.param("age_years <", 12, "ends too early", id="dangling-comparison"),
        pytest.param("age_years < 18 and", 19, "ends too early", id="dangling-and"),
        pytest.param("takes_maoi or", 14, "ends too early", id="dangling-or"),
        pytest.param("not", 4, "ends too early", id="dangling-not"),
        pytest.param("and takes_maoi", 1, "found 'and'", id="leading-and"),
        pytest.param("age_years < 18 age_years > 2", 16, "join conditions", id="missing-and"),
        pytest.param("", 1, "empty", id="empty"),
        pytest.param("age_years # 3", 11, "unexpected character '#'", id="unknown-character"),
        pytest.param("takes_maoi & takes_opioid", 12, "'&'", id="ampersand"),
        pytest.param('pregnancy_status = "pregnant', 20, "no closing quote", id="unclosed-quote"),
        pytest.param("takes_maoi and 'x", 16, "no closing quote", id="unclosed-single-quote"),
        pytest.param("age_years in ()", 14, "list is empty", id="empty-list"),
    ],
)
def test_syntax_error_is_reported_at_its_column(text: str, position: int, words: str):
    [(message, column)] = problems(text)

    assert column == position
    assert words in message


def test_whitespace_only_logic_is_empty():
    [(message, _)] = problems("   ")

    assert "empty" in message


def test_problem_pointer_puts_a_caret_under_the_offending_text():
    text = "pregnancy_status = 'pregant'"
    [problem] = check_logic(text)

    assert problem.pointer(text) == f"{text}\n{' ' * 19}{'^' * 9}"


# --- names and values ------------------------------------------------------------------------


def test_unknown_fact_suggests_the_closest_name():
    [(message, column)] = problems('pregancy_status = "pregnant"')

    assert column == 1
    assert "unknown fact 'pregancy_status'" in message
    assert "did you mean pregnancy_status?" in message


def test_unknown_fact_without_a_close_name_has_no_suggestion():
    [(message, _)] = problems("zzz")

    assert message == "unknown fact 'zzz'"


def test_enum_value_that_does_not_exist_lists_the_allowed_values():
    [(message, column)] = problems('pregnancy_status = "pregant"')

    assert column == 20
    assert "'pregant' is not allowed for pregnancy_status" in message
    assert "allowed: pregnant, not_pregnant, not_applicable" in message
    assert "did you mean 'pregnant'?" in message


@pytest.mark.parametrize(
    ("text", "position", "value"),
    [
        ('current_mood_episode in ("manic", "mixd")', 35, "mixd"),
        ('"mddd" in diagnoses', 1, "mddd"),
        ('suicide_risk = "severe"', 16, "severe"),
    ],
)
def test_value_not_allowed_in_lists_sets_and_derived_facts(text: str, position: int, value: str):
    [(message, column)] = problems(text)

    assert column == position
    assert f"value {value!r} is not allowed" in message


def test_bare_enum_word_suggests_quotes():
    [(message, column)] = problems("current_mood_episode = depressive")

    assert column == 24
    assert "unknown fact 'depressive'" in message
    assert 'put it in quotes: "depressive"' in message


# --- types -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "position", "words"),
    [
        pytest.param('phq9_total = "ten"', 14, "compare it with a number", id="number-vs-text"),
        pytest.param("phq9_total = true", 14, "compare it with a number", id="number-vs-bool"),
        pytest.param('diagnoses = "mdd"', 1, 'write "mdd" in diagnoses', id="set-with-equals"),
        pytest.param("phq9_total", 1, "not true/false", id="number-as-condition"),
        pytest.param("current_mood_episode", 1, "not true/false", id="enum-as-condition"),
        pytest.param("diagnoses", 1, "not true/false", id="set-as-condition"),
        pytest.param('current_mood_episode < "manic"', 1, "use = or ≠", id="less-than-on-enum"),
        pytest.param("takes_maoi = 1", 1, "= true or = false", id="boolean-vs-number"),
        pytest.param("takes_maoi > false", 1, "= true or = false", id="boolean-ordered"),
        pytest.param("bp_elevated >= true", 1, "= true or = false", id="definition-ordered"),
        pytest.param('age_years in ("ten")', 15, "not a number", id="text-in-number-list"),
        pytest.param('"mdd" in age_years', 10, "is not a set", id="in-non-set"),
        pytest.param("10 = 10", 1, "two fixed values", id="two-values"),
        pytest.param("10", 1, "not a condition", id="number-as-condition-value"),
        pytest.param('phq9_total = gad7_total and age_years = "x"', 41, "number", id="second-part"),
        pytest.param("takes_maoi = pregnancy_status", 1, "different kinds", id="fact-kinds"),
    ],
)
def test_type_mismatch_is_rejected_with_a_clear_message(text: str, position: int, words: str):
    [(message, column)] = problems(text)

    assert column == position
    assert words in message


@pytest.mark.parametrize(
    ("text", "position", "words"),
    [
        ("phq9_total >= 30", 15, "30 is outside the range of phq9_total (0–27)"),
        ("phq9_total > -1", 14, "-1 is outside the range of phq9_total (0–27)"),
        ("age_years < 121", 13, "121 is outside the range of age_years (0–120)"),
        ("benzodiazepine_dose_mg_diazepam_eq > 200.5", 38, "200.5 is outside the range"),
        ("phq9_item9 in (1, 4)", 19, "4 is outside the range of phq9_item9 (0–3)"),
        ("30 <= phq9_total", 1, "30 is outside the range of phq9_total"),
    ],
)
def test_number_outside_the_facts_range_is_rejected(text: str, position: int, words: str):
    [(message, column)] = problems(text)

    assert column == position
    assert words in message


@pytest.mark.parametrize("text", ["phq9_total >= 27", "phq9_total >= 0", "age_years <= 120"])
def test_numbers_at_the_ends_of_a_range_are_accepted(text: str):
    assert check_logic(text) == []


def test_every_problem_in_one_text_is_reported_in_order():
    text = 'pregancy_status = "x" and phq9_total >= 30 and age_years'

    found = problems(text)

    assert [column for _, column in found] == [1, 41, 48]
    assert "did you mean pregnancy_status?" in found[0][0]
    assert "outside the range of phq9_total" in found[1][0]
    assert "age_years is a whole number, not true/false" in found[2][0]


def test_check_logic_lists_problems_instead_of_raising():
    listed = check_logic('current_mood_episode = depressive or pregnancy_status = "pregant"')

    assert [p.position for p in listed] == [24, 57]


# --- what the language accepts ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        '"mdd" in diagnoses and phq9_total >= 10',
        '"mdd" not in diagnoses',
        'current_mood_episode in ("manic", "mixed")',
        'current_mood_episode not in ["manic", "mixed",]',
        'pregnancy_status != "not_applicable" and breastfeeding',
        'pregnancy_status ≠ "not_applicable" or pregnancy_status <> "pregnant"',
        "bp_elevated and not bp_crisis",
        "bp_elevated = true",
        "age_years ≥ 18 and age_years ≤ 24",
        "age_years == 18",
        "18 <= age_years",
        "systolic_bp > diastolic_bp",
        "NOT takes_maoi AND takes_opioid OR takes_stimulant",
        "benzodiazepine_dose_mg_diazepam_eq > 7.5",
        "“mdd” in diagnoses",
        "'mdd' in diagnoses",
        "not (takes_maoi or takes_stimulant)",
        "takes_maoi = false",
    ],
)
def test_rule_language_accepts(text: str):
    assert check_logic(text) == []
