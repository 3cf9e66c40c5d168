"""GraphQL object types, a leaf of the GraphQL layer: one module per entity or feature.

Modules import each other one way (``common``, ``people`` ← ``case_type``, ``playbooks``,
``sla``, ``referrals`` ← ``case``); the types that point back at ``Case`` live with it. The
feature modules (``notifications``, ``presence``, ``intake``, ``webhooks``, ``survey_results``
← ``analytics``) import the entities they point at, and nothing imports them but ``schema/`` and
the resolvers that build them. A computed field calls a resolver in ``resolvers/`` that returns
records, and wraps them here.
"""
