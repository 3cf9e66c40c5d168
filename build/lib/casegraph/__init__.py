"""casegraph: a GraphQL case-management backend for public agencies and service desks."""

__version__ = "0.1.0"
