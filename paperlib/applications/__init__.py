"""Applications: editing your own photos through a trained model (the `edit` command, notebook 08)."""
