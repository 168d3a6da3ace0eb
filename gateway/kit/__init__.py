"""The connector kit: what every connector reuses (OAuth2 grants, error tables, the base)."""
