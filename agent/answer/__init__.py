"""The answer path: recall the memories, fit them into a prompt, decode a reply under a
schema, check that what it cites supports it."""
