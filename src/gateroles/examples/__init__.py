"""Worked examples: real pretrained recurrent nets run through gateroles (docs/own-model.md)."""
