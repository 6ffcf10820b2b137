"""attune.prompts"""
