"""Hub: the app-facing API, checkout saga and the spokes to third-party systems."""
