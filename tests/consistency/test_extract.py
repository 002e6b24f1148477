"""Answer extraction on awkward answers."""

import pytest

from arcray.consistency.extract import extract_code, extract_number, extract_text_answer, normalize_code, normalize_number


@pytest.mark.parametrize("text, expected", [
    ("$1,200.", "1200"),
    ("-3", "-3"),
    ("The answer is 7 apples", "7"),
    ("2 + 5 = 7 apples, so the answer is 7 apples.", "7"),
    ("Step 1: 3*4=12\nStep 2: 12+1=13\n#### 13", "13"),
    ("#### 1,234\nI hope this helps, 5 stars", "1234"),
    ("She pays $3.50 in total.", "3.5"),
    ("Answer: **-12**", "-12"),
    ("so \\boxed{42}.", "42"),
    ("12.0", "12"),
    ("the lists 1, 2, 3", "3"),
    ("I do not know.", None),
])
def test_final_number(text, expected):
    assert extract_number(text) == expected


def test_normalize_number():
    assert normalize_number("$ 1,000,000.00") == "1000000"
    assert normalize_number("0.50") == "0.5"
    assert normalize_number("abc") is None


def test_text_answer_takes_a_final_answer_line():
    assert extract_text_answer("Let me think.\nFinal answer: Paris.") == "paris"
    assert extract_text_answer("  Hello   WORLD! ") == "hello world"
    assert extract_text_answer("   ") is None


def test_code_extraction_and_normal_form():
    reply = "Here you go:\n```python\ndef f(x):\n    \"\"\"Doc.\"\"\"\n    # add one\n    return x+1\n```\nThanks"
    code = extract_code(reply)
    assert code.startswith("def f(x):") and "Thanks" not in code
    same = "def f(x):\n\n    return (x + 1)  # again\n"
    assert normalize_code(code) == normalize_code(same) == "def f(x):\n    return x + 1"
    assert extract_code("```python\ndef g():\n    return 1\n") == "def g():\n    return 1\n"  # unclosed block
    assert normalize_code("def broken(:") is None
    assert normalize_code("    x = 1\n") == "x = 1"  # a bare function body, dedented
