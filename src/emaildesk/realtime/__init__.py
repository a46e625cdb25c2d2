"""Real-time notifications: the Bayeux (CometD) state machine, its endpoint, authorization."""
