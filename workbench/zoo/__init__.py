"""Built-in architectures, training recipes, synthetic datasets and model cards."""
