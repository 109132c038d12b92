"""Pure domain: event types, commands, deciders and budget arithmetic.

Nothing here does I/O, reads a clock or imports SQLAlchemy: time arrives in the
`Context` a command is decided under, and in the events themselves.
"""
