"""Pure loyalty rules: accrual, the lot ledger, tiers, refunds. Time arrives as an argument."""
