"""A run's config: the recipe loaded (recipe.py), then resolved once into everything a run
derives (resolve.py), including the local Beam mode (beam_mode.py). The bottom floor of
pipeline/: it imports components/ only."""
