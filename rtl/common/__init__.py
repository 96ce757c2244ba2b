"""Building blocks shared by every block: validation, adder trees, population counts."""
