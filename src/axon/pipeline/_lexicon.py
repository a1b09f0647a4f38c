"""Word lists the analyzer matches, kept apart from the matching logic.

Every cue is a regular expression fragment matched on word boundaries,
case-insensitively, so "latest" never reads as "test" and "prefix" never as
"fix". Weights say how strongly a cue points at a task: 3 is decisive ("stack
trace", "unit test"), 2 is strong, 1 is a hint.
"""

from __future__ import annotations

from axon.pipeline.types import TaskType

TASK_CUES: dict[TaskType, dict[str, float]] = {
    TaskType.BUG_FIX: {
        r"bugs?": 2.5,
        r"fix(es|ed|ing)?": 2,
        r"broken": 2,
        r"crash(es|ed|ing)?": 2.5,
        r"fails?|failing|failed|failure": 1.5,
        r"errors?": 1.5,
        r"exceptions?": 1.5,
        r"traceback|stack ?trace|panic(ked|s)?|segfault|segmentation fault": 3,
        r"doesn'?t work|does not work|not working|stopped working|won'?t (start|compile|run)": 3,
        r"wrong (result|output|value|answer)s?|unexpected(ly)?": 1.5,
        r"debug(ging)?": 2,
        r"regression": 2,
        r"null pointer|undefined is not|cannot read propert(y|ies)|is not defined|nil pointer": 3,
        r"throws?|raises?|raising": 1,
        r"hangs?|deadlocks?|race condition": 2,
        r"why (does|is|do|am|are) .{0,40}(fail|error|crash|return|break)": 1.5,
    },
    TaskType.FEATURE_ADD: {
        r"add(ing)? (a|an|the|support|new)": 2.5,
        r"add(ing)? (a|an|new) .{0,40}"
        r"(flag|option|endpoint|command|page|field|column|button|route|setting)s?": 1.5,
        r"implement(ing|ation)?": 2.5,
        r"create (a|an|new)": 2,
        r"build (a|an)": 2,
        r"new (feature|endpoint|command|page|component|option|flag|field|api)": 3,
        r"support for": 2,
        r"feature": 2,
        r"write (a|an) (function|class|endpoint|script|module|component|handler|cli)": 3,
        r"allow (users?|the user|us) to": 2,
        r"extend": 1,
        r"integrate|integration with": 1.5,
    },
    TaskType.REFACTOR: {
        r"refactor(ing|ed)?": 3.5,
        r"clean ?up": 2.5,
        r"restructure|reorgani[sz]e": 3,
        r"rename": 2.5,
        r"extract .{0,40}(into|to|as) (a |an |the )?"
        r"(helper|function|method|class|module|component|file)": 3,
        r"split .{0,40}(into|up)": 2.5,
        r"simplify|simpler": 2,
        r"duplicat(ed|ion)|dry": 2,
        r"more readable|readability|maintainab(le|ility)": 2,
        r"move (this|the) .{0,30}(to|into)": 1.5,
        r"decouple|modulari[sz]e": 2.5,
        r"tidy": 2,
    },
    TaskType.CODE_REVIEW: {
        r"review": 3,
        r"code review|pull request|\bpr\b|merge request|diff": 2.5,
        r"feedback on": 2,
        r"look over|check (my|this) (code|change|implementation)": 2.5,
        r"best practices?": 1.5,
        r"anything wrong with|any (issues|problems) (with|in)": 2,
        r"critique|lgtm": 2.5,
        r"is this (code )?(good|ok|okay|correct|idiomatic)": 2.5,
        r"idiomatic": 1.5,
    },
    TaskType.EXPLAIN: {
        r"explain": 3,
        r"what (does|do|is|are)": 2,
        r"what does .{0,80} do": 2,
        r"how (does|do|is|are)": 2,
        r"how (does|do) .{0,60}work": 2.5,
        r"walk me through": 3,
        r"understand(ing)?": 1.5,
        r"meaning of|what'?s the (purpose|point|difference)": 2,
        r"describe": 1.5,
        r"difference between": 2,
        r"why (does|is|do|did)": 1,
        r"what is this project|overview|about\??$": 1.5,
        r"tell me about": 2,
    },
    TaskType.TEST: {
        r"(unit|integration|e2e|end-to-end|regression|snapshot|property-based) tests?": 3,
        r"tests?": 2,
        r"testing|testable": 1.5,
        r"pytest|jest|vitest|mocha|junit|testng|unittest|go test|cargo test|rspec"
        r"|cypress|playwright": 3,
        r"test (cases?|coverage|suite|fixtures?)": 3,
        r"coverage": 2,
        r"mocks?|mocking|stubs?|fixtures?": 1.5,
        r"assert(ion)?s?": 1.5,
        r"tdd": 2,
    },
    TaskType.DOCUMENTATION: {
        r"document(ation|ing)?": 3,
        r"docs?": 2.5,
        r"docstrings?|jsdoc|javadoc|rustdoc|godoc": 3.5,
        r"readme": 3,
        r"comments?": 1.5,
        r"changelog|release notes": 2.5,
        r"api reference|usage guide|tutorial": 2,
        r"write[- ]?up": 1.5,
    },
    TaskType.DEPLOYMENT: {
        r"deploy(ing|ment|ed)?": 2.5,
        r"docker(file)?|docker-compose|compose file|containeri[sz]e": 2.5,
        r"kubernetes|k8s|helm|kubectl|pods?": 2.5,
        r"ci/cd|ci pipeline|github actions|gitlab ci|jenkins|circleci": 2.5,
        r"terraform|ansible|cloudformation|pulumi": 2.5,
        r"production|staging|rollout|roll back|rollback|release": 1.5,
        r"nginx|load balancer|ingress|aws|gcp|azure|heroku|vercel|netlify": 1.5,
        r"environment variables?|env vars?": 1,
    },
    TaskType.PERFORMANCE: {
        r"slow(er|ly|ness)?": 2.5,
        r"performance|perf": 3,
        r"optimi[sz](e|ation|ing)": 2.5,
        r"faster|speed ?up|speed": 2,
        r"latency|throughput": 2.5,
        r"memory (leak|usage)|leaks? memory|cpu usage|high cpu": 3,
        r"bottlenecks?|profil(e|ing|er)": 2.5,
        r"n\+1|cach(e|ing)": 1.5,
        r"benchmark(s|ing)?": 2,
        r"takes? (too long|forever|\d+ ?(s|ms|seconds|minutes))": 2.5,
        r"scal(e|ing|ability)": 1,
    },
    TaskType.SECURITY: {
        r"security|secure": 3,
        r"vulnerab(le|ility|ilities)": 3,
        r"(sql|command|code|prompt|ldap|header) injection|xss|csrf|ssrf|cross-site": 3.5,
        r"auth(entication|orization|n|z)?": 1.5,
        r"passwords?|secrets?|credentials?|api keys?|tokens? leak": 1.5,
        r"sanitiz(e|ation)|escap(e|ing) (user )?input": 2,
        r"cve-\d{4}-\d+|owasp|exploit|attack(er)?": 3,
        r"encrypt(ion|ed)?|hash(ing)? passwords?|tls|ssl|cors": 1.5,
        r"permissions?|privilege|access control": 1,
    },
    TaskType.NOTE_SUMMARIZE: {
        r"summari[sz](e|ation|y)|sum up|recap|tl;?dr|digest": 3,
        r"key (points|takeaways)|main points|highlights": 2.5,
    },
    TaskType.NOTE_LINK: {
        r"link(s|ing|ed)?": 2,
        r"backlinks?|wikilinks?|\[\[[^\[\]\n]+\]\]": 3.5,
        r"connect(ions?|ed)?|related (notes?|ideas?|topics?)": 2,
        r"relat(e|es|ed) to": 2.5,
        r"cross-?reference": 2.5,
        r"graph": 1,
    },
    TaskType.NOTE_SEARCH: {
        r"find|search|look ?up|locate": 2.5,
        r"where did i (write|note|put|mention)": 3,
        r"which notes?": 2,
        r"notes? (about|on|mentioning|tagged)": 2,
        r"tagged|with the tag|#\w+": 1.5,
    },
    TaskType.NOTE_WRITE: {
        r"write|draft|create|compose|jot": 2,
        r"new note|daily note|journal entry|meeting notes|outline|template": 2.5,
        r"add (a |this |these )?(note|entry|section|bullet)s?|append": 2,
        r"turn (this|these|it|them)\b.{0,40} into (a |an )?(new )?note": 3,
    },
}

CODE_TASKS = frozenset(t for t in TASK_CUES if not t.value.startswith("note_"))

# Intent cues. Code entities (paths, symbols, errors, frames, technologies) are
# also coding evidence; the analyzer adds those itself.
PKM_CUES: dict[str, float] = {
    r"notes?": 1.5,
    r"vault|obsidian|logseq|roam|notion|zettelkasten|zettel|evergreen": 3,
    r"journal|diary|daily notes?|weekly review|meeting notes": 3,
    r"backlinks?|wikilinks?|\[\[[^\[\]\n]+\]\]": 3,
    r"my (reading|research|ideas|thoughts|writing|highlights)": 2,
    r"knowledge base|second brain|pkm": 3,
    r"book (notes|summary)|highlights|reading list": 2,
    r"tags?|tagged": 1,
}
CODING_CUES: dict[str, float] = {
    r"code|coding|codebase|repo(sitory)?|source": 1.5,
    r"functions?|methods?|class(es)?|modules?|packages?|librar(y|ies)|variables?": 1.5,
    r"compile(r|s|d)?|build|runtime|syntax|types?|interface|struct|enum|generics?": 1,
    r"api|endpoint|database|query|schema|migration|server|client|cli|script": 1,
    r"bug|debug|refactor|unit tests?|deploy|docker|kubernetes|commit|branch|merge": 1.5,
    r"config|loader|parser|handler|middleware|dashboard|ui|frontend|backend": 1,
    r"readme|changelog|pull request|dependenc(y|ies)|cve-\d{4}-\d+|release notes": 1.5,
    r"project|app(lication)?|service": 0.5,
}

# Technologies: canonical name -> pattern (word-bounded, case-insensitive).
TECHNOLOGIES: dict[str, str] = {
    "python": r"python3?|pip|pyproject|virtualenv|venv",
    "django": r"django",
    "flask": r"flask",
    "fastapi": r"fastapi",
    "pydantic": r"pydantic",
    "sqlalchemy": r"sqlalchemy",
    "pandas": r"pandas",
    "numpy": r"numpy",
    "pytest": r"pytest",
    "asyncio": r"asyncio",
    "celery": r"celery",
    "javascript": r"javascript|js|ecmascript",
    "typescript": r"typescript|ts|tsconfig",
    "node": r"node\.?js|\bnode\b|npm|yarn|pnpm|deno|bun",
    "react": r"react(\.js)?|jsx|tsx|usestate|useeffect|next\.?js",
    "nextjs": r"next\.?js",
    "vue": r"vue(\.js)?|nuxt",
    "angular": r"angular",
    "svelte": r"svelte(kit)?",
    "express": r"express(\.js)?",
    "nestjs": r"nest\.?js",
    "jest": r"jest|vitest",
    "go": r"golang|go (mod|test|build|run|vet)|goroutines?|go\.mod",
    "gin": r"gin-gonic|\bgin\b",
    "rust": r"rust|cargo|crates?\.io|rustc|clippy",
    "tokio": r"tokio",
    "actix": r"actix(-web)?",
    "axum": r"axum",
    "serde": r"serde",
    "java": r"java|jvm|jdk|maven|gradle",
    "spring": r"spring( boot)?|springboot",
    "kotlin": r"kotlin",
    "junit": r"junit",
    "hibernate": r"hibernate|jpa",
    "sql": r"sql|select .{1,80} from|insert into|join|indexes?|stored procedure",
    "postgresql": r"postgres(ql)?|psql|pg_\w+",
    "mysql": r"mysql|mariadb",
    "sqlite": r"sqlite3?",
    "mongodb": r"mongo(db)?",
    "redis": r"redis",
    "docker": r"docker(file)?|docker-compose",
    "kubernetes": r"kubernetes|k8s|kubectl|helm",
    "graphql": r"graphql",
    "c#": r"c#|\.net|dotnet|asp\.net",
    "c++": r"c\+\+|cmake",
    "ruby": r"ruby|rails",
    "php": r"php|laravel",
    "swift": r"swift(ui)?",
}

# File extensions that name a technology (matched on extracted paths).
EXTENSION_TECH: dict[str, str] = {
    "py": "python",
    "pyi": "python",
    "js": "javascript",
    "mjs": "javascript",
    "cjs": "javascript",
    "jsx": "react",
    "ts": "typescript",
    "tsx": "react",
    "go": "go",
    "rs": "rust",
    "java": "java",
    "kt": "kotlin",
    "sql": "sql",
    "rb": "ruby",
    "php": "php",
    "cs": "c#",
    "cpp": "c++",
    "cc": "c++",
    "hpp": "c++",
    "swift": "swift",
    "vue": "vue",
    "svelte": "svelte",
    "gradle": "java",
    "tf": "terraform",
}
GREETING = r"hello|hi|hey|thanks|thank you|good (morning|afternoon|evening)"

# Words that, alone, point at something the prompt does not name.
DEICTIC = (
    r"it|(this|that|these|those)(?=\s*([?.!,:;]|$|(do|does|is|are|mean|means|work|works|one)\b))"
)
VAGUE = (
    r"fix it|make it (work|better)|doesn'?t work|not working|help( me)?|improve (it|this)"
    r"|what'?s wrong|any ideas|do it|change it|update it|clean it"
)
