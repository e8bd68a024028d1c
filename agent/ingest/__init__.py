"""Taking things in: notes, files and folders, audio and screenshots, the inbox; secrets are
redacted and excluded sources skipped before anything is written."""
