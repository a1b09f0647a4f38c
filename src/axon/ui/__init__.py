"""The web dashboard: server-rendered pages at / and /ui/..., served by `axon serve`.

Pages read from the same services and helpers as the API routes (the UI holds no
query logic of its own); a small script of our own streams prompts, follows jobs
and sends feedback. Security model: docs/architecture.md "Dashboard".
"""
