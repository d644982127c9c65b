"""The qsr-platform Kopf operator: reconciles LoyaltyProgram and StoreIntegration resources."""
