"""What every package of Attune may import: the errors a user can read, YAML loading, shared models.

Nothing here imports from ``agent``, ``tools``, ``prompts``, ``knowledge``, ``ui`` or ``evals``, so
the packages depend on this one and never on each other in a circle (``prompts`` reads profiles
with it without importing the agent).
"""
