"""The Textual terminal UI (issue 7). Knows agent's services, nothing below them."""
