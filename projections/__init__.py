"""Read models folded from the log: one module per projection, a runner for
inline (same transaction as the append) and catch-up use, and rebuild."""
