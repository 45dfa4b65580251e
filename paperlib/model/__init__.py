"""The networks: ModelArgs, attention layers, our encoder/generator/discriminator, the baselines, checkpoints,
sampling and editing through the encoder."""
