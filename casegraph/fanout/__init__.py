"""Subscription fan-out: one event to thousands of subscribers at the cost of a few.

Strawberry serves a subscription with a task, a chain of async generators and one execution of
the selection per event per subscriber. Here a ``caseEvents``/``queueEvents`` subscription over
graphql-transport-ws is set up by Strawberry as usual (parsing, limits, allow-list, validation,
authentication and the resolver's authorization all run), and then *followed* instead of
iterated: it becomes a ``Follower`` registered with the hub, with no task and no generator
while it waits. For each event the hub decides once per audience (token actor and filter), and
the dispatcher executes the selection once per plan (query text, operation, the variables the
selection uses) and visibility class (what the execution read of the viewer), then writes the
same serialized payload to every subscriber of the class, only the operation ``id`` differing.

- ``registration``: the seam a subscription resolver uses to hand its subscriber over;
- ``plans``: a subscription document prepared once for per-event execution;
- ``viewer_reads``: the context that records which viewer facts an execution read;
- ``execution``: one execution of a plan for one event;
- ``followers``: subscribers and audiences, replay then live, catching up when behind;
- ``dispatcher``: the hub's sink: grouping by plan and class, counters;
- ``outlet``: frames to one WebSocket without ever blocking the dispatcher;
- ``transport_ws``: the graphql-transport-ws handler that offers the registration.

Nothing here is imported by ``casegraph.fanout`` itself: resolvers import ``registration``
alone, which must not import the schema (the schema imports the resolvers).
"""
