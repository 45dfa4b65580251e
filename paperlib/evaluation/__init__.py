"""Evaluation: feature spaces, metrics, evaluating runs, the claims table, cost, the copying check, attacks."""
