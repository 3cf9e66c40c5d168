"""Code that depends on other projects' internals, fenced in one place.

Each module here names, in ``# Follows upstream: <distribution> <version>, <file>`` header lines,
the upstream files and the exact versions it was written against; ``tests/_compat`` fails when
an installed version differs, so an upgrade means re-reading those files. Nothing outside this
package imports another project's private names (the same tests check that).
"""
