"""Loaded by schemathesis before it runs (SCHEMATHESIS_HOOKS).

CPython 3.11 (before the fix of gh-106905) counts the depth of the AST it is building in the
`_ast` module's global state, not in the call: two threads building ASTs at once (hypothesis
parses a source file to describe a lambda, and `--workers 2` runs two such threads) can reset
each other's count, and the parse then fails with "AST constructor recursion depth mismatch",
which schemathesis reports as an error of the operation it was testing. A failed construction
(a RecursionError deep in schemathesis' generators) leaves the count wrong too.

So: one `ast.parse` at a time, and a higher recursion limit.
"""

import ast
import sys
import threading

sys.setrecursionlimit(max(sys.getrecursionlimit(), 20_000))

if sys.version_info < (3, 12):
    _parse = ast.parse
    _one_at_a_time = threading.RLock()

    def _serialized_parse(*args, **kwargs):
        with _one_at_a_time:
            return _parse(*args, **kwargs)

    ast.parse = _serialized_parse
