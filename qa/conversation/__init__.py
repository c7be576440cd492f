"""Conversation: a follow-up question resolved against the turns before it (followup.py)."""
