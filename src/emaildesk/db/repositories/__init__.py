"""SQL implementations of the repository ports declared in `emaildesk.services.ports`."""
