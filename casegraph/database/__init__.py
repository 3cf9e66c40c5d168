"""The database layer, between the models and the services: dialect helpers (``sql``), fixed
single-table statements (``statements``) and a case's row by id within a visibility condition
(``case_rows``). It knows tables and dialects, never a rule: services decide, this writes.
"""
