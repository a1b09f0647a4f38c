"""Entities found by shape in prompts: paths, modules, symbols, errors, stack frames."""

from __future__ import annotations

from axon.retrieval.entities import Frame, candidate_paths, extract_entities
from axon.retrieval.tokenize import tokenize


def test_identifiers_split_on_case_underscores_and_digits_keeping_the_whole() -> None:
    assert tokenize("parseHTTPResponse_v2") == [
        "parsehttpresponse_v2",
        "parse",
        "http",
        "response",
        "v2",
    ]
    assert tokenize("src/axon/load_config.py") == [
        "src",
        "axon",
        "load_config",
        "load",
        "config",
        "py",
    ]
    assert tokenize("the 42 x") == []  # stop words, numbers and one-letter parts carry no signal


def test_python_js_and_java_frames() -> None:
    found = extract_entities(
        "Traceback (most recent call last):\n"
        '  File "/home/me/venv/lib/python3.11/site-packages/shop/gateway.py", line 7, in charge\n'
        "    at handleClick (src/ui/Button.js:10:5)\n"
        "    at com.acme.Foo.bar(Foo.java:42)\n"
        "ValueError: amount must be positive\n"
    )
    assert Frame("shop/gateway.py", 7, "charge") in found.frames
    assert Frame("src/ui/Button.js", 10, "handleClick") in found.frames
    assert Frame("Foo.java", 42, "com.acme.Foo.bar") in found.frames
    assert {"charge", "handleClick", "bar"} <= set(found.symbols)
    assert found.errors == ["ValueError"]
    assert found.messages == ["amount must be positive"]


def test_paths_modules_and_symbols() -> None:
    found = extract_entities(
        "Calling `Checkout.finish()` from src/shop/checkout.py breaks; see"
        " shop.pricing.apply_discount and PaymentGateway, e.g. lookup_rate in rates.py. https://example.com/a/b.py"
    )
    assert "src/shop/checkout.py" in found.paths and "rates.py" in found.paths
    assert not any("example.com" in p for p in found.paths)
    assert "shop.pricing.apply_discount" in found.modules
    assert {"finish", "apply_discount", "PaymentGateway", "lookup_rate"} <= set(found.symbols)
    assert "shop/pricing.py" in candidate_paths(found)


def test_constants_in_upper_snake_case_are_symbols() -> None:
    found = extract_entities("why is SEND_FILE_MAX_AGE_DEFAULT ignored, and _PRIVATE_LIMIT? README")
    assert "SEND_FILE_MAX_AGE_DEFAULT" in found.symbols
    assert "PRIVATE_LIMIT" in found.symbols
    assert "README" not in found.symbols  # one capitalised word is prose, not a constant
