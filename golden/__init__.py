"""Bit-exact numpy models: the specs of ``../shared/specs`` in executable form.

Nothing here imports the RTL, the generator or a simulator; golden functions take plain numbers and arrays.
"""
