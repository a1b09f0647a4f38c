"""Context evolution: how stored knowledge learns, ages, merges and is replaced.

One module per idea: `confidence` (evidence and votes), `decay` (salience over time),
`supersede` (validity in time and history). Each takes the collaborators it uses
(the DocumentStore, the SearchIndex, the Retriever), never the whole services.
"""
