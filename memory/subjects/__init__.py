"""Subjects in a user's life.

The people, pets, places and organisations a user talks about, and how their names are read.
"""
