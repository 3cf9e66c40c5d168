# Follows upstream: strawberry-graphql 0.341.2, strawberry/extensions/context.py
"""Schema extensions' hooks classified once per extension class, not on every request.

For every operation Strawberry builds, for each of its four hook stages (operation, parsing,
validation, execution), a list of the extensions' hooks: ``ExtensionContextManagerBase.get_hook``
looks the hook up on the extension's class, asks ``inspect`` whether it is a generator or an
async generator function, and wraps it with ``contextlib.contextmanager`` (which copies the
function's metadata with ``functools.update_wrapper``) around a freshly bound method. The
application has about ten extensions, so that was some forty classifications and wrappers per
request, each with the same outcome for the same class.

``use_classified_hooks`` swaps ``get_hook`` for one that classifies a (class, stage) once and
wraps the unbound function once; per request it only binds the extension. Calling the hook then
builds the same context manager as before (``contextmanager(f)(extension)`` is
``contextmanager(MethodType(f, extension))()``). Hooks that are plain callables, rare, still go
through the upstream path.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable
from functools import partial
from typing import Any

from strawberry.extensions.context import ExtensionContextManagerBase, WrappedHook

_upstream_get_hook = ExtensionContextManagerBase.get_hook
_NONE: Any = object()
# (extension class, hook name) → (wrapped unbound hook, is_async); None: no hook of its own;
# _NONE: a plain callable, left to upstream.
_classified: dict[tuple[type, str], tuple[Callable[..., Any], bool] | None] = {}


def _classify(manager: ExtensionContextManagerBase, kind: type) -> tuple[Callable[..., Any], bool] | None:
    hook_fn = getattr(kind, manager.HOOK_NAME)
    if hook_fn is manager.default_hook:
        return None
    if inspect.isgeneratorfunction(hook_fn):
        return contextlib.contextmanager(hook_fn), False
    if inspect.isasyncgenfunction(hook_fn):
        return contextlib.asynccontextmanager(hook_fn), True
    return _NONE  # type: ignore[no-any-return]


def get_hook(self: ExtensionContextManagerBase, extension: Any) -> WrappedHook | None:
    key = (type(extension), self.HOOK_NAME)
    try:
        classified = _classified[key]
    except KeyError:
        classified = _classified[key] = _classify(self, type(extension))
    if classified is None:
        return None
    if classified is _NONE:
        return _upstream_get_hook(self, extension)
    wrapped, is_async = classified
    return WrappedHook(extension=extension, hook=partial(wrapped, extension), is_async=is_async)


def use_classified_hooks() -> None:
    """Idempotent; called where the schema is built (``schema.build_schema``)."""
    ExtensionContextManagerBase.get_hook = get_hook  # type: ignore[method-assign]
