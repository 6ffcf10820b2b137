"""attune.ui"""
