"""emaildesk: a self-hostable contact-center email server (see DESIGN.md for the picture)."""

__version__ = "0.1.0"
