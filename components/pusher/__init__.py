"""Pusher: the staged, atomic push and the serving dir's versions (push.py), and `predict`
on a pushed model (predict.py)."""
