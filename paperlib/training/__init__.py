"""Training: the loop (train.py), its steps, losses, DiffAugment, the EMA generator and torchrun."""
