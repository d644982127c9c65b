"""Pure shared models: the custom-resource specs every component reads."""
