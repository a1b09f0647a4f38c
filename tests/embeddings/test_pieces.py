"""Word-piece budgets: cuts fall on piece boundaries of the original text."""

from __future__ import annotations

import pytest
from tokenizers import Tokenizer

from axon.embeddings.model_files import TOKENIZER_FILE, packaged_model_dir
from axon.embeddings.pieces import QUERY_PIECES, cut_to_pieces, query_embedding_text

CODE = (
    "def resolve_redirects(self, response, request, stream=False, timeout=None):\n"
    '    """Receives a Response. Returns a generator of Responses or Requests."""\n'
    "    hist = []  # keep track of history\n"
    "    url = self.get_redirect_target(response)\n"
    "    while url:\n"
    "        prepared_request = request.copy()\n"
) * 4


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    model_dir = packaged_model_dir()
    assert model_dir is not None, "the model package is a test dependency"
    tokenizer = Tokenizer.from_file(str(model_dir / TOKENIZER_FILE))
    tokenizer.no_padding()  # the file pads and truncates at 128; count every piece
    tokenizer.no_truncation()
    return tokenizer


def pieces(tokenizer: Tokenizer, text: str) -> list[int]:
    return list(tokenizer.encode(text, add_special_tokens=False).ids)


@pytest.mark.needs_model
@pytest.mark.parametrize("budget", [1, 7, 20, 96])
def test_cut_keeps_exactly_the_first_word_pieces(tokenizer: Tokenizer, budget: int) -> None:
    [cut] = cut_to_pieces([CODE], budget)
    assert CODE.startswith(cut)
    assert pieces(tokenizer, cut) == pieces(tokenizer, CODE)[:budget]


def test_texts_within_the_budget_are_unchanged() -> None:
    texts = ["", "short text", "naïve café 日本語"]
    assert cut_to_pieces(texts, 64) == texts


@pytest.mark.needs_model
def test_a_huge_text_is_cut_without_reading_all_of_it(tokenizer: Tokenizer) -> None:
    [cut] = cut_to_pieces([CODE * 5000], 50)  # about 1.5 MB
    assert len(pieces(tokenizer, cut)) == 50


@pytest.mark.needs_model
def test_query_embedding_text_keeps_a_title_and_cuts_a_long_issue(tokenizer: Tokenizer) -> None:
    title = "Session.resolve_redirects copies the original request for all redirects"
    assert query_embedding_text(title) == title
    issue = f"{title}\n{CODE}"
    cut = query_embedding_text(issue)
    assert cut.startswith(title) and len(pieces(tokenizer, cut)) == QUERY_PIECES
