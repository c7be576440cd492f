"""Search: a question -> ranked, highlighted passages with their copies, values and confidence."""
