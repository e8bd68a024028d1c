"""The memory lifecycle: consolidation, facts and their updates, retention and importance,
summaries and optical pages, forgetting, export and import."""
