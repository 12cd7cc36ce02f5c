"""Example applications for optout-mw (not part of the installed package)."""
