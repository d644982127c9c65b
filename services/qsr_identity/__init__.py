"""Identity service: guests, staff and service clients; OAuth2/OIDC tokens and JWKS."""
