"""Pusher: the staged, atomic push (push.py), and `predict` on a pushed model (predict.py). What
a version in the serving dir is, is components/serving_dir.py's rule."""
