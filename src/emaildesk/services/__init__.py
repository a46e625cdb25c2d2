"""Use cases every front door calls. They take a unit of work, never commit, and speak only in
domain objects and domain errors."""
