"""Pydantic models of newsbeam's records and their exported JSON Schema."""
