"""papertape's agent: the service facade (service.py) over answer/, memory/ and ingest/,
served to people by cli/ and tui/, and in the background by daemon/."""
