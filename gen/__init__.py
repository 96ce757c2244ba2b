"""Presets, the block registry, the manifest writer and the CLI that emits Verilog. Imports rtl/ only."""
