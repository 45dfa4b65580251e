"""The ground floor: errors, atomic writes, paths, the machine, the run config, the compared models and the presets."""
