"""Ray Data jobs: collection (tasks → evolution actors) and sampling (prompts → model actors)."""
