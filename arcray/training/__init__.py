"""Fine-tuning: dataset preparation (no Ray), QLoRA on Ray Train, adapter merging."""
