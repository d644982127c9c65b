"""Spokes: a Protocol per kind of outside system (`ports`), adapters behind it, a guard each."""
