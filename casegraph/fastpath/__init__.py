"""The compiled path for hot queries (issue 8): cached documents, planned operations, plain rows.

``documents`` caches parsing and validation for every operation; ``executor`` answers operations
that ``plan`` knows (the agents' queue: ``cases`` and ``me`` with their usual fields) from a few
statements (``case_page``, ``viewer``) instead of resolving field by field, and executes every
other operation normally.
"""
