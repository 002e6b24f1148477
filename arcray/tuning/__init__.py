"""Ray Tune + Optuna over training configs, with objectives measured by evaluation."""
