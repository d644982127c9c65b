"""Loyalty service: rule engine, lot ledger, tiers, rewards and redemption."""
