"""Retrievers for agent frameworks, each an optional extra: `qa.integrations.langchain` (`.[langchain]`) and
`qa.integrations.llama_index` (`.[llamaindex]`).

They return the same verbatim passages as `Retriever.search`, with the file, raw offsets and source as
metadata, so a framework's chain can cite exactly what it quotes. Nothing here imports a framework: each module
imports its own, and says which extra to install when it is missing.
"""
