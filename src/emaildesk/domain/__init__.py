"""The pure domain: entities, rules, state machines and errors. Imports no framework and no I/O."""
