"""Ordering service: orders, their state machine, kitchen capacity."""
