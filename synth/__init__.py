"""Synthesis flows (generic gates, ECP5 place-and-route, standard cells with OpenSTA) and report writers."""
