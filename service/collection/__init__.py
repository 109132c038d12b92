"""Reading SLIs from their data sources: a baseline from history, and collection every minute."""
