"""Labelled prompts for the analyzer: (prompt, intent, task type, workspace type).

Written by hand to cover every task type, each supported language family,
PKM prompts, and the traps word-boundary matching must avoid ("latest",
"prefix", "contest", "attestation", "docker" in prose...).
"""

from __future__ import annotations

from axon.models import WorkspaceType
from axon.pipeline.types import Intent, TaskType

C, P, G = Intent.CODING, Intent.PKM, Intent.GENERAL
CW, PW = WorkspaceType.CODING, WorkspaceType.PKM

LABELLED: list[tuple[str, Intent, TaskType, WorkspaceType]] = [
    # bug_fix
    ("Fix the TypeError in src/app/main.py when parse_config() gets None", C, TaskType.BUG_FIX, CW),
    (
        'Traceback (most recent call last):\n  File "app/db.py", line 42, in connect\n'
        "ConnectionRefusedError: [Errno 111]",
        C,
        TaskType.BUG_FIX,
        CW,
    ),
    (
        "My React component crashes with 'Cannot read properties of undefined (reading map)'",
        C,
        TaskType.BUG_FIX,
        CW,
    ),
    (
        "panic: runtime error: index out of range [3] with length 3 in handlers/user.go",
        C,
        TaskType.BUG_FIX,
        CW,
    ),
    ("error[E0382]: borrow of moved value: `config` in src/main.rs", C, TaskType.BUG_FIX, CW),
    (
        'Exception in thread "main" java.lang.NullPointerException\n'
        "\tat com.acme.Billing.charge(Billing.java:88)",
        C,
        TaskType.BUG_FIX,
        CW,
    ),
    (
        "the login endpoint returns 500 since yesterday's merge, can you debug it?",
        C,
        TaskType.BUG_FIX,
        CW,
    ),
    (
        "Why does my SQL query return duplicate rows after adding the LEFT JOIN?",
        C,
        TaskType.BUG_FIX,
        CW,
    ),
    ("npm run build fails with Module not found: Can't resolve './utils'", C, TaskType.BUG_FIX, CW),
    ("The goroutine deadlocks when the channel is closed early", C, TaskType.BUG_FIX, CW),
    ("useEffect runs twice and the counter is wrong, what's the bug?", C, TaskType.BUG_FIX, CW),
    # feature_add
    ("Add a --dry-run flag to the CLI deploy command", C, TaskType.FEATURE_ADD, CW),
    ("Implement pagination for the /users endpoint in FastAPI", C, TaskType.FEATURE_ADD, CW),
    (
        "Create a new React component that shows the user's avatar and name",
        C,
        TaskType.FEATURE_ADD,
        CW,
    ),
    ("Write a function that parses ISO 8601 durations in Go", C, TaskType.FEATURE_ADD, CW),
    ("Add support for PostgreSQL as a second storage backend", C, TaskType.FEATURE_ADD, CW),
    ("Allow users to export their reports as CSV from the dashboard", C, TaskType.FEATURE_ADD, CW),
    (
        "Implement a retry with exponential backoff in the HTTP client class",
        C,
        TaskType.FEATURE_ADD,
        CW,
    ),
    ("Build a Spring Boot controller for creating orders", C, TaskType.FEATURE_ADD, CW),
    # refactor
    ("Refactor UserService to use dependency injection", C, TaskType.REFACTOR, CW),
    (
        "Clean up this module, there's a lot of duplicated code in utils.py",
        C,
        TaskType.REFACTOR,
        CW,
    ),
    ("Rename getUserData to fetchUserProfile everywhere", C, TaskType.REFACTOR, CW),
    (
        "Extract the validation logic into a helper function in validators.ts",
        C,
        TaskType.REFACTOR,
        CW,
    ),
    ("Split the 800-line handler.rs into smaller modules", C, TaskType.REFACTOR, CW),
    ("Simplify this nested if/else chain in OrderProcessor.java", C, TaskType.REFACTOR, CW),
    ("Restructure the prefix handling code so it is more readable", C, TaskType.REFACTOR, CW),
    # code_review
    ("Review my pull request for the caching layer", C, TaskType.CODE_REVIEW, CW),
    (
        "Can you review this diff and point out problems?\n```diff\n- x = 1\n+ x = 2\n```",
        C,
        TaskType.CODE_REVIEW,
        CW,
    ),
    (
        "Is this code idiomatic Rust?\n```rust\nfn main() { let v: Vec<i32> = vec![]; }\n```",
        C,
        TaskType.CODE_REVIEW,
        CW,
    ),
    (
        "Look over my implementation of the LRU cache in lru.py and give feedback on it",
        C,
        TaskType.CODE_REVIEW,
        CW,
    ),
    ("Code review for the new auth middleware please", C, TaskType.CODE_REVIEW, CW),
    # explain
    (
        "Explain how the request middleware works in src/axon/api/middleware.py",
        C,
        TaskType.EXPLAIN,
        CW,
    ),
    ("What does the reconcile() function in the Kubernetes operator do?", C, TaskType.EXPLAIN, CW),
    ("Walk me through the indexing flow of this codebase", C, TaskType.EXPLAIN, CW),
    ("What is this project about?", G, TaskType.EXPLAIN, CW),
    ("What's the difference between a goroutine and a thread?", C, TaskType.EXPLAIN, CW),
    ("How does Django's ORM build the SQL for a select_related query?", C, TaskType.EXPLAIN, CW),
    ("Explain the latest changes to the scheduler module", C, TaskType.EXPLAIN, CW),
    # test
    ("Write unit tests for the parse_duration function with pytest", C, TaskType.TEST, CW),
    ("Add Jest tests for the useCart hook", C, TaskType.TEST, CW),
    ("Increase test coverage of the billing package", C, TaskType.TEST, CW),
    ("How do I mock the database in my JUnit tests?", C, TaskType.TEST, CW),
    ("Write table-driven tests in Go for ParseHeader", C, TaskType.TEST, CW),
    ("Add an integration test that hits the /health endpoint", C, TaskType.TEST, CW),
    # documentation
    ("Write docstrings for every public function in storage.py", C, TaskType.DOCUMENTATION, CW),
    ("Update the README with the new install steps", C, TaskType.DOCUMENTATION, CW),
    ("Document the REST API for the orders service", C, TaskType.DOCUMENTATION, CW),
    ("Add JSDoc comments to the utils module", C, TaskType.DOCUMENTATION, CW),
    ("Write the changelog entry for version 2.3", C, TaskType.DOCUMENTATION, CW),
    # deployment
    ("Write a Dockerfile for this FastAPI app", C, TaskType.DEPLOYMENT, CW),
    ("Deploy the service to Kubernetes with 3 replicas", C, TaskType.DEPLOYMENT, CW),
    (
        "Set up a GitHub Actions pipeline that builds and pushes the image",
        C,
        TaskType.DEPLOYMENT,
        CW,
    ),
    ("How do I roll back the production release on k8s?", C, TaskType.DEPLOYMENT, CW),
    ("Create a Helm chart for the worker", C, TaskType.DEPLOYMENT, CW),
    # performance
    ("This endpoint is slow, the p95 latency is 3 seconds", C, TaskType.PERFORMANCE, CW),
    ("Optimize the SQL query that loads the dashboard, it takes 12s", C, TaskType.PERFORMANCE, CW),
    ("We have a memory leak in the Node.js worker", C, TaskType.PERFORMANCE, CW),
    ("Speed up the pandas groupby in report.py", C, TaskType.PERFORMANCE, CW),
    ("Profile the Rust parser and find the bottleneck", C, TaskType.PERFORMANCE, CW),
    # security
    ("Is this login form vulnerable to SQL injection?", C, TaskType.SECURITY, CW),
    ("Check the Flask app for XSS and CSRF issues", C, TaskType.SECURITY, CW),
    ("How should we store API keys securely in the Spring app?", C, TaskType.SECURITY, CW),
    ("Audit our dependencies for CVE-2023-44487", C, TaskType.SECURITY, CW),
    ("Hash passwords properly in the Express signup route", C, TaskType.SECURITY, CW),
    # general
    ("Hello, testing deployment", G, TaskType.GENERAL_QUERY, CW),
    ("What's a good name for a cat?", G, TaskType.GENERAL_QUERY, CW),
    ("Thanks!", G, TaskType.GENERAL_QUERY, CW),
    ("Give me some ideas for a team offsite", G, TaskType.GENERAL_QUERY, CW),
    ("What time zone is Tokyo in?", G, TaskType.GENERAL_QUERY, CW),
    ("Who won the contest last year?", G, TaskType.GENERAL_QUERY, CW),
    # pkm
    ("Summarize my meeting notes from last week", P, TaskType.NOTE_SUMMARIZE, PW),
    ("Give me a TL;DR of the notes on distributed systems", P, TaskType.NOTE_SUMMARIZE, PW),
    (
        "What are the key takeaways from my book notes on Thinking in Systems?",
        P,
        TaskType.NOTE_SUMMARIZE,
        PW,
    ),
    ("Find notes that link to [[Project Atlas]]", P, TaskType.NOTE_LINK, PW),
    ("Suggest backlinks between my notes on habits and productivity", P, TaskType.NOTE_LINK, PW),
    ("Which notes are related to the zettel on spaced repetition?", P, TaskType.NOTE_LINK, PW),
    ("Where did I write about the budget for the offsite?", P, TaskType.NOTE_SEARCH, PW),
    ("Search my vault for notes tagged #reading", P, TaskType.NOTE_SEARCH, PW),
    ("Find my journal entries mentioning Lisbon", P, TaskType.NOTE_SEARCH, PW),
    ("Draft a new note on the ideas from today's call", P, TaskType.NOTE_WRITE, PW),
    (
        "Create a daily note template with sections for tasks and reflections",
        P,
        TaskType.NOTE_WRITE,
        PW,
    ),
    ("Turn these bullet points into a note for my Obsidian vault", P, TaskType.NOTE_WRITE, PW),
    ("Recap the notes from the quarterly planning meeting", P, TaskType.NOTE_SUMMARIZE, PW),
    ("Look up what I noted about the attestation process", P, TaskType.NOTE_SEARCH, PW),
    # traps
    ("Show me the latest version of the config loader", C, TaskType.GENERAL_QUERY, CW),
    ("What does the prefix argument of build_index() control?", C, TaskType.EXPLAIN, CW),
    ("Add a contest leaderboard page to the Vue app", C, TaskType.FEATURE_ADD, CW),
    ("Why is the Docker build so slow on CI?", C, TaskType.PERFORMANCE, CW),
    ("Explain what the attestation module in attest.py does", C, TaskType.EXPLAIN, CW),
]

# Written after the rules were tuned on LABELLED and never tuned against: an honest
# estimate of accuracy on unseen prompts.
HELD_OUT: list[tuple[str, Intent, TaskType, WorkspaceType]] = [
    ("The CSV importer chokes on files with a BOM, please fix", C, TaskType.BUG_FIX, CW),
    ("KeyError: 'user_id' raised from views.py line 77", C, TaskType.BUG_FIX, CW),
    ("Add dark mode to the settings page", C, TaskType.FEATURE_ADD, CW),
    ("Implement rate limiting middleware for the Express API", C, TaskType.FEATURE_ADD, CW),
    (
        "Convert these callbacks to async/await and tidy up the error handling",
        C,
        TaskType.REFACTOR,
        CW,
    ),
    ("Please review the changes in payments.go before I merge", C, TaskType.CODE_REVIEW, CW),
    ("What is the purpose of the Outbox pattern in our order service?", C, TaskType.EXPLAIN, CW),
    ("Write pytest fixtures for the Redis client", C, TaskType.TEST, CW),
    ("Document the environment variables in the README", C, TaskType.DOCUMENTATION, CW),
    (
        "Write a docker-compose file with Postgres and Redis for local development",
        C,
        TaskType.DEPLOYMENT,
        CW,
    ),
    (
        "The search page takes 4 seconds to load, how can I make it faster?",
        C,
        TaskType.PERFORMANCE,
        CW,
    ),
    ("Are we leaking secrets into the logs in logger.ts?", C, TaskType.SECURITY, CW),
    ("Summarize what I wrote in my notes about the Q3 roadmap", P, TaskType.NOTE_SUMMARIZE, PW),
    ("Link my notes on stoicism to the ones about habits", P, TaskType.NOTE_LINK, PW),
    ("Write a journal entry about today's hike", P, TaskType.NOTE_WRITE, PW),
    ("Where did I put the notes from the Berlin conference?", P, TaskType.NOTE_SEARCH, PW),
    ("What's the capital of Australia?", G, TaskType.GENERAL_QUERY, CW),
    ("Recommend a good book about negotiation", G, TaskType.GENERAL_QUERY, CW),
]
