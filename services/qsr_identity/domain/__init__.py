"""Pure identity rules: normalisation, token claims, refresh-token families."""
