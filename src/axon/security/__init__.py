"""API security: keys with scopes, rate limits, and the policy that decides when auth is on."""
