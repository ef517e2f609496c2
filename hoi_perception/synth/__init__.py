"""Synthetic HOI data engine: samplers, labels, shards, manifest, torch Dataset.

Kept import-free on purpose: `shards` and `generate` need only numpy; `dataset` imports torch;
the samplers import the renderer. Import the submodule you need.
"""
