"""HTTP edge: the dialect routers, their error envelopes and request plumbing."""
