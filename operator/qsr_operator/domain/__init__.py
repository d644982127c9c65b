"""Pure builders of desired state (manifests, topic plans); no API calls here."""
