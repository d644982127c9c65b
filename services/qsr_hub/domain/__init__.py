"""Pure hub rules: the checkout saga's steps and compensations, POS payload transforms."""
