"""Chroma collections (policies, KB articles, resolved tickets), local embeddings, ingestion, citations.

Not built yet: the drafts and buyer-questions work adds it.
"""
