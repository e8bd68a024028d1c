"""The one place that wires papertape together: settings, CLI, ingest, recall, lifecycle."""
