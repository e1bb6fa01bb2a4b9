"""The core: conversation turns, Deep Research and its monitor, and the rules they follow.

It knows nothing of MCP. The tools above it hand over typed requests and get back result
models; below it are the store (``state``) and the Interactions API client (``upstream``).
Light modules (arguments, requests, results, errors, progress, context) load at start-up;
``service`` and what it imports load on the first tool call.
"""
