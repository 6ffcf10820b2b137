"""Clinician profiles and the prompt templates the agent renders from them."""

from .profile import PROFILE_DIR, STEPS, Profile, list_profiles, load_profile, parse_profile

__all__ = ["Profile", "load_profile", "parse_profile", "list_profiles", "PROFILE_DIR", "STEPS"]
