"""Long reads hand the event loop back every `SLICE` rows.

A server process answers every request on one event loop; a read that hashes or folds
a whole page of events without awaiting holds every other request (a health check, a
deploy decision) for as long as the page takes. The whole-log reads (the chain check,
the export, the fold a replay or a rebuild runs) pass through the loop
(`await asyncio.sleep(0)`) every `SLICE` rows: a few milliseconds of work at most
between two chances for everyone else, for a cost of microseconds.
"""

SLICE = 100  # rows; checking one costs 10-40 us of CPU, folding one 5-10
