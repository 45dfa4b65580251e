"""The report: figure data from trained models, figures from result files, and the notebook chain."""
