"""GraphQL object types, a leaf of the GraphQL layer: one module per entity or feature.

Modules import each other one way (``common``, ``people`` ← ``case_type``, ``playbooks``,
``sla``, ``referrals`` ← ``case``); the types that point back at ``Case`` live with it. A
computed field calls a resolver in ``resolvers/`` that returns records, and wraps them here.
"""
