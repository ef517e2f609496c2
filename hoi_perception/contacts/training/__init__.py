"""Training of the contact network (never imported by live code)."""
