"""Labelled exchanges for capture quality: (exchange text, expected captures).

Written and frozen before the capture rules were tuned (issue 15, item 8). An
exchange is the prompt and the answer as the post-processor reads them; an expected
capture is (kind, sentence) with the sentence exactly as it stands in the text.
`TUNING` may guide changes to the rules; `HELD_OUT` is only measured.
Decisions and conventions are statements of what holds; questions, proposals,
hypotheticals, conditionals, reported speech about others and rejected options are
not.
"""

from __future__ import annotations

D, P = "decision", "pattern"

Exchange = tuple[str, list[tuple[str, str]]]

TUNING: list[Exchange] = [
    (
        "We decided to use PostgreSQL for the orders service. How should I migrate?\n"
        "Start with a dump of the current tables.",
        [(D, "We decided to use PostgreSQL for the orders service.")],
    ),
    ("Should we switch to Redis for the session store?\nIt depends on your load.", []),
    (
        "What if we used Kafka instead of RabbitMQ?\n"
        "Kafka gives you replay, at an operational cost.",
        [],
    ),
    (
        "Convention: test files are named test_<module>.py.\nGood, pytest finds them by default.",
        [(P, "Convention: test files are named test_<module>.py.")],
    ),
    (
        "Let's use Ruff for linting from now on.\nSure, add it to pre-commit.",
        [
            (D, "Let's use Ruff for linting from now on."),
        ],
    ),
    ("Should we always use UTC in the database?\nYes, store UTC and convert at the edges.", []),
    (
        "We agreed to release every two weeks on Tuesday.\nI will set up a calendar reminder.",
        [(D, "We agreed to release every two weeks on Tuesday.")],
    ),
    (
        "Maybe we should adopt GraphQL for the mobile API.\nConsider the caching trade-offs first.",
        [],
    ),
    (
        "We never commit secrets to the repository.\nUse the vault for API keys.",
        [(P, "We never commit secrets to the repository.")],
    ),
    ("If we decided to use MongoDB, how would we model orders?\nEmbed the lines in the order.", []),
    (
        "The team chose FastAPI for the new gateway.\nIt has good async support.",
        [(D, "The team chose FastAPI for the new gateway.")],
    ),
    ("Did we decide to use Celery or arq for jobs?\nI don't see a record of that.", []),
    (
        "Rule: every public function has a docstring.\nThat keeps the API docs complete.",
        [(P, "Rule: every public function has a docstring.")],
    ),
    ("We could use SQLite for local development.\nThat would keep set-up simple.", []),
    (
        "Decision: the billing service owns the invoices table.\n"
        "Other services read it via the API.",
        [(D, "Decision: the billing service owns the invoices table.")],
    ),
    ("Why did we choose Go for the proxy?\nMostly for its small static binaries.", []),
    (
        "We will use semantic versioning for the SDK.\nStart at 1.0.0 once the API is stable.",
        [(D, "We will use semantic versioning for the SDK.")],
    ),
    ("Let's not use ORMs in the reporting service, right?\nRaw SQL reads better there.", []),
    (
        "By convention, feature branches start with feat/.\nAnd fixes with fix/.",
        [(P, "By convention, feature branches start with feat/.")],
    ),
    ("Are we going with Terraform or Pulumi?\nBoth work; Terraform has more modules.", []),
    (
        "We settled on OpenTelemetry for tracing.\nExport to the collector on port 4317.",
        [(D, "We settled on OpenTelemetry for tracing.")],
    ),
    ("Should I always return Result from these functions?\nIn library code, yes.", []),
    (
        "Always use the shared logger from app.logging, never print.\nThat keeps request ids.",
        [(P, "Always use the shared logger from app.logging, never print.")],
    ),
    ("Netflix decided to use Cassandra for viewing history.\nIt scales writes well.", []),
    (
        "We prefer composition over inheritance in the domain layer.\nMixins are hard to follow.",
        [(P, "We prefer composition over inheritance in the domain layer.")],
    ),
    (
        "We considered Elasticsearch but rejected it as too heavy.\nPostgres full-text is enough.",
        [],
    ),
    (
        "Let's go with Stripe for payments.\nTheir webhooks need idempotency keys.",
        [(D, "Let's go with Stripe for payments.")],
    ),
    (
        "Would it be better to never use global state?\nMostly, but configuration is an exception.",
        [],
    ),
    (
        "Guideline: keep HTTP handlers thin and put logic in services.\nEasy to test that way.",
        [(P, "Guideline: keep HTTP handlers thin and put logic in services.")],
    ),
    ("Suppose we chose gRPC for internal calls; what breaks?\nBrowsers need a proxy.", []),
]

HELD_OUT: list[Exchange] = [
    (
        "We decided to store money as integer cents.\nGood: no floating-point rounding.",
        [(D, "We decided to store money as integer cents.")],
    ),
    ("Should we use Docker Compose in production?\nFor one host it can be fine.", []),
    (
        "Convention: environment variables are upper snake case.\nPrefix them with APP_.",
        [(P, "Convention: environment variables are upper snake case.")],
    ),
    ("What if we moved the frontend to Svelte?\nThe rewrite cost would be high.", []),
    (
        "We agreed that migrations are reviewed by two people.\nThat catches locking issues.",
        [(D, "We agreed that migrations are reviewed by two people.")],
    ),
    ("Do we always pin dependencies?\nThe lock file pins them for you.", []),
    (
        "Let's adopt trunk-based development.\nKeep branches short-lived.",
        [(D, "Let's adopt trunk-based development.")],
    ),
    ("I think we might switch to pnpm later.\nIt saves disk space.", []),
    (
        "Never log personal data such as emails.\nMask them in the formatter.",
        [(P, "Never log personal data such as emails.")],
    ),
    ("If the team chose Rust, would the build be slower?\nYes, compile times grow.", []),
    (
        "We chose Auth0 for single sign-on.\nConfigure the callback URL per environment.",
        [(D, "We chose Auth0 for single sign-on.")],
    ),
    ("Have we decided on a message broker yet?\nNot yet, it is on the agenda.", []),
    (
        "Pattern: repositories return domain objects, not rows.\nMap them at the boundary.",
        [(P, "Pattern: repositories return domain objects, not rows.")],
    ),
    ("We might use feature flags for the beta.\nThat would allow a gradual rollout.", []),
    (
        "Decision: API errors use the problem+json format.\nInclude a type URI.",
        [(D, "Decision: API errors use the problem+json format.")],
    ),
    ("Why are we going with Kubernetes?\nFor autoscaling and rolling deploys.", []),
    (
        "We will deploy the API to two regions.\nRoute users by latency.",
        [(D, "We will deploy the API to two regions.")],
    ),
    ("Let's not rush the database upgrade?\nAgreed, test on staging first.", []),
    (
        "We always write the changelog entry in the same pull request.\nReviewers check it.",
        [(P, "We always write the changelog entry in the same pull request.")],
    ),
    ("Should we standardize on black or ruff format?\nRuff format is faster.", []),
    (
        "The team decided to drop Python 3.8 support.\nUpdate the classifiers.",
        [(D, "The team decided to drop Python 3.8 support.")],
    ),
    ("Never use mutable default arguments, is that right?\nYes, use None and create inside.", []),
    (
        "Always name database indexes after their columns.\nLike idx_orders_created_at.",
        [(P, "Always name database indexes after their columns.")],
    ),
    ("Google chose Bazel for its monorepo.\nIt has remote caching.", []),
    (
        "Our team prefers small pull requests under 400 lines.\nThey get reviewed faster.",
        [(P, "Our team prefers small pull requests under 400 lines.")],
    ),
    ("We evaluated DynamoDB but decided against it.\nThe query patterns did not fit.", []),
    (
        "Let's use Playwright for end-to-end tests.\nRun them nightly.",
        [(D, "Let's use Playwright for end-to-end tests.")],
    ),
    ("Could we always run the linters in CI?\nYes, add a job before the tests.", []),
    (
        "Rule: no direct pushes to main.\nProtect the branch in the settings.",
        [(P, "Rule: no direct pushes to main.")],
    ),
    ("Imagine we decided to use Redis streams; how do consumers scale?\nUse consumer groups.", []),
]
