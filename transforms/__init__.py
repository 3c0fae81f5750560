"""Composite PTransforms, one module per pipeline stage."""
