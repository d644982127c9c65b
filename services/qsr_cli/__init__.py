"""The `qsr` command line: one entry point for every component and the dev stack."""
