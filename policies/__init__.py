"""The error-budget policy language, its pure evaluator, the bundled default policy
and the pure reactions that turn budget transitions into policy actions."""
