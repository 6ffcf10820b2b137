"""attune.evals"""
