"""Amaranth components and their frozen config dataclasses. Imports amaranth and rtl/ only."""
