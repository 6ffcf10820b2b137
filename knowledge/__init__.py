"""attune.knowledge"""
