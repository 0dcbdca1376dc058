"""The formula language: parsing, evaluation, and errors that point at the problem."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from crmbridge.domain.mapping.errors import (
    FormulaEvaluationError,
    FormulaSyntaxError,
    FormulaValidationError,
)
from crmbridge.domain.mapping.formula import compile_formula
from crmbridge.domain.mapping.formula.syntax import MAX_DEPTH, parse_formula

LEAD = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "score": 72,
    "amount": 10.125,
    "status": "QUALIFIED",
    "phone": None,
    "mobile_phone": "+1 555 0100",
    "close_date": "2024-03-10",
}


def run(text: str, **kwargs: Any) -> Any:
    return compile_formula(text).evaluate(platform=kwargs.pop("platform", LEAD), **kwargs)


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ('first_name & " " & last_name', "Ada Lovelace"),
        ('first_name + " " + UPPER(last_name)', "Ada LOVELACE"),
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("10 / 4", 2.5),
        ("-score + 2", -70),
        ("0.1 + 0.2", 0.3),
        ("score > 50", True),
        ("score >= 72 && score <= 72", True),
        ("score = 72 AND NOT(status = 'LOST')", True),
        ("score < 10 OR status <> 'QUALIFIED'", False),
        ('IF(score > 50, "hot", "cold")', "hot"),
        ('IF(score > 90, "hot")', None),
        ('CASE(status, "NEW", 1, "QUALIFIED", 2, 0)', 2),
        ('CASE(status, "NEW", 1, 0)', 0),
        ("COALESCE(phone, mobile_phone)", "+1 555 0100"),
        ('BLANKVALUE(phone, "none")', "none"),
        ("ISBLANK(phone)", True),
        ("ISBLANK(first_name)", False),
        ("LEN(last_name)", 8),
        ("LEFT(last_name, 4)", "Love"),
        ("RIGHT(last_name, 4)", "lace"),
        ("MID(last_name, 3, 2)", "ve"),
        ('TRIM("  x  ")', "x"),
        ("LOWER(first_name)", "ada"),
        ('CONCAT(first_name, "-", score)', "Ada-72"),
        ("TEXT(score) & '%'", "72%"),
        ('VALUE("42.5") * 2', 85),
        ("ROUND(amount * 1.2, 2)", 12.15),
        ("ROUND(2.5)", 3),
        ("FLOOR(-1.5)", -2),
        ("CEILING(1.2)", 2),
        ("ABS(-3)", 3),
        ("MAX(1, score, 5)", 72),
        ("YEAR(DATEVALUE(close_date))", 2024),
        ("MONTH(DATEVALUE(close_date))", 3),
        ("DAY(DATEVALUE(close_date))", 10),
        ("DATEVALUE(close_date) + 7", date(2024, 3, 17)),
        ("DATEVALUE(close_date) - DATE(2024, 3, 1)", 9),
        ('CONTAINS(last_name, "love")', False),
        ('BEGINS(last_name, "Love")', True),
        ('SUBSTITUTE(status, "_", " ")', "QUALIFIED"),
        ("'it''s'".replace("''", "\\'"), "it's"),
        ('"line\\nbreak"', "line\nbreak"),
        ("NULL", None),
        ("true", True),
    ],
)
def test_formulas_evaluate_like_salesforce_formulas(formula: str, expected: Any) -> None:
    assert run(formula) == expected


def test_today_comes_from_the_run_not_from_a_clock() -> None:
    assert run("TODAY() + 1", today=date(2024, 2, 28)) == date(2024, 2, 29)
    with pytest.raises(FormulaEvaluationError, match="TODAY"):
        run("TODAY()")


def test_salesforce_fields_are_read_with_the_sf_prefix_including_parents() -> None:
    formula = compile_formula('sf.FirstName & " at " & sf.Account.Name')
    record = {"FirstName": "Ada", "Account": {"Name": "Analytical Engines"}}
    assert formula.evaluate(salesforce=record) == "Ada at Analytical Engines"
    assert formula.salesforce_fields() == {"FirstName", "Account.Name"}


def test_blank_text_concatenates_as_empty_and_arithmetic_with_null_is_null() -> None:
    assert run('"x" & phone & "y"') == "xy"
    assert run("score + phone") is None


@pytest.mark.parametrize(
    ("formula", "token", "line", "column", "message"),
    [
        ("1 +", None, 1, 4, "ends too early"),
        ("IF(score,, 2)", ",", 1, 10, "unexpected ','"),
        ("score # 2", "#", 1, 7, "unexpected character '#'"),
        ('"abc', '"', 1, 1, 'closing " is missing'),
        ("score 2", "2", 1, 7, "unexpected number '2'"),
        ("a < b < c", "<", 1, 7, "unexpected comparison '<'"),
        ("IF(a,\n  b c)", "c", 2, 5, "unexpected name 'c'"),
        (")", ")", 1, 1, "unexpected ')'"),
    ],
)
def test_syntax_errors_name_the_bad_token_and_its_position(
    formula: str, token: str | None, line: int, column: int, message: str
) -> None:
    with pytest.raises(FormulaSyntaxError) as caught:
        compile_formula(formula)
    error = caught.value
    assert (error.token, error.line, error.column) == (token, line, column)
    assert message in str(error)
    assert f"(line {line}, column {column})" in str(error)


def test_an_empty_formula_is_a_syntax_error() -> None:
    with pytest.raises(FormulaSyntaxError, match="empty"):
        compile_formula("   ")


def test_overly_nested_formulas_are_refused_clearly() -> None:
    deep = "(" * (MAX_DEPTH + 5) + "1" + ")" * (MAX_DEPTH + 5)
    assert parse_formula("(" * 50 + "1" + ")" * 50) is not None
    nested_calls = "ABS(" * (MAX_DEPTH + 1) + "1" + ")" * (MAX_DEPTH + 1)
    with pytest.raises(FormulaSyntaxError, match="nested more than"):
        compile_formula(nested_calls)
    # Parentheses alone add no depth: they compile.
    assert compile_formula(deep).evaluate() == 1


def test_unknown_functions_and_wrong_argument_counts_fail_at_validation_time() -> None:
    with pytest.raises(FormulaValidationError) as caught:
        compile_formula("UPPR(first_name) & LEFT(last_name) & IF(a, b, c, d)")
    problems = caught.value.problems
    assert problems[0].startswith("unknown function UPPR (did you mean UPPER")
    assert "LEFT takes 2 arguments, got 1: use LEFT(text, count) (line 1, column 20)" in problems
    assert any(p.startswith("IF takes 2 to 3 arguments, got 4") for p in problems)


def test_case_needs_pairs_and_an_else_result() -> None:
    with pytest.raises(FormulaValidationError, match="CASE takes an expression"):
        compile_formula('CASE(status, "NEW", 1)')


def test_unknown_fields_are_found_when_fields_are_checked() -> None:
    with pytest.raises(FormulaValidationError) as caught:
        compile_formula(
            "frist_name & sf.Email",
            platform_fields=["first_name", "last_name"],
            salesforce_fields=None,
            check_fields=True,
        )
    assert caught.value.problems == (
        "unknown platform field frist_name (did you mean first_name?) (line 1, column 1)",
        "Salesforce field sf.Email cannot be used here; this formula reads platform fields "
        "(line 1, column 14)",
    )


@pytest.mark.parametrize(
    ("formula", "message"),
    [
        ("score / 0", "division by zero (line 1, column 7)"),
        ("first_name * 2", "'*' needs numbers, got text and number"),
        ('VALUE("abc")', "VALUE cannot read 'abc' as a number"),
        ("IF(first_name, 1, 2)", "expected true/false, got text 'Ada'"),
        ("score < first_name", "cannot compare number with text"),
        ("DATE(2024, 2, 30)", "DATE: day is out of range"),
        ("-first_name", "'-' needs a number"),
    ],
)
def test_evaluation_errors_concern_one_record_and_say_what_failed(
    formula: str, message: str
) -> None:
    with pytest.raises(FormulaEvaluationError) as caught:
        run(formula)
    assert message in str(caught.value)


def test_operators_and_keywords_ignore_case_and_names_keep_it() -> None:
    assert run("score > 1 and not (score > 100) or false") is True
    assert run("upper(first_name)") == "ADA"
    formula = compile_formula("notes & order_id")
    assert formula.platform_fields() == {"notes", "order_id"}
