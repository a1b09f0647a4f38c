"""Local fakes of external services, spoken to through their real client libraries."""
