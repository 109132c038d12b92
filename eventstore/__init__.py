"""The event log's persistence: append (all-or-nothing, optimistic concurrency,
one global order with a hash chain), read, tail and verify.

It knows events, streams and positions; it knows nothing of GraphQL or of what
the events mean.
"""
