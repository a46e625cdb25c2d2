"""eGain Case Manager v3: customer email response, task activity, read-back, attachments."""
