"""Hyperparameter tuning: TFX's Tuner component with KerasTuner, over the settings our models read."""
