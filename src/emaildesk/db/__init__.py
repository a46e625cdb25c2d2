"""Persistence: tables, the mapping of domain classes onto them, repositories, the unit of work,
migrations and the blob store. Implements the ports that `services/` declares."""
