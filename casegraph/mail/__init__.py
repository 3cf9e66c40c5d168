"""Outbound mail (issue 17): rendering the outbox's mails and sending them.

``services/requester_mail.py`` writes a row per mail in the event's transaction; here they are
rendered from templates (``templates/``, overridable per file by CASEGRAPH_MAIL_TEMPLATES) in the
recipient's language (``catalogs/<language>.json``), and sent by SMTP or, with no SMTP server
configured, written to a local maildir.
"""
