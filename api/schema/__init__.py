"""The slogov GraphQL schema, one module per area.

``build_schema(settings)`` is the one entry point; ``python -m api.schema.export``
prints the SDL committed as ``schema.graphql``.

Areas, each holding its types, queries and mutations:
``journeys``; ``objectives`` (and their negotiation); ``budgets``; ``gate`` (policies and
the deploy gate); ``audit`` (the log, its integrity, live events); ``reports`` (quarterly
reviews, the leadership report); ``viewer`` (who is calling).

Shared by every area, importing none: ``shared`` (running a command, counting outcomes,
reading an entity back, as-of reads, read-model connections, ``EventRef``),
``connections`` (Relay types and cursors), ``enums``, ``inputs`` (the command guards of
every mutation input), ``reads`` (journeys and objectives from the read models).

Adding an area (sources and monitoring, specs, what-if...): a module ``api/schema/NAME.py``
with its types, a ``NAMEQuery`` and/or ``NAMEMutation`` class whose mutations go through
``shared.run_command`` (or ``shared.measured`` for a service call), its inputs declared with
``inputs.command_input``; add the classes to the ``merge_types`` lists in ``schema.py``
(their position is their fields' order in ``schema.graphql``), and regenerate that file.
An area may import another area's public names; where two areas' types refer to each
other, one names the other lazily (``Annotated["T", strawberry.lazy("api.schema.x")]``),
as ``objectives`` does for its budget, policy actions, reviews and journey. Nothing in the
shared modules imports an area, and no module imports another's underscore names
(``tests/test_architecture.py``).
"""

from api.schema.schema import build_schema

__all__ = ["build_schema"]
