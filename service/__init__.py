"""The service layer: the command bus (group commit), handlers and the composition root."""
