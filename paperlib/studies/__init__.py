"""Studies: the comparison that 03_baselines trains, and the paper's §4.2 and §5 as experiments (07)."""
