"""Conversation and research state: the store interface and its backends."""
