"""attune.agent"""
