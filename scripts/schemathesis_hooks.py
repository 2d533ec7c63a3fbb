"""Loaded by schemathesis before it runs (SCHEMATHESIS_HOOKS).

CPython 3.11 before the fix of gh-106905 leaks its AST recursion count when an AST
construction fails (a RecursionError deep in schemathesis' generators, as hypothesis parses
a source file to describe a lambda); every later parse then raises "AST constructor recursion
depth mismatch" and schemathesis reports it as an error of the operation it was testing. A
higher recursion limit keeps the first failure from happening.
"""

import sys

sys.setrecursionlimit(max(sys.getrecursionlimit(), 20_000))
