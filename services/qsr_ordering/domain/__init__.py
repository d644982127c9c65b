"""Pure ordering rules: pricing, the order state machine, pickup-slot capacity."""
