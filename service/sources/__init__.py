"""Adapters to the systems SLI data is read from (outside the domain; see DESIGN.md)."""
