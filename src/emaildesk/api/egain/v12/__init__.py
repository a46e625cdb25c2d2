"""eGain Interaction API v12: session login, incoming email activity, read-back."""
