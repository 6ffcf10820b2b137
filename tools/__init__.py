"""attune.tools"""
