"""Data synthesis, feature caching, training and evaluation. Never imported by the app."""
