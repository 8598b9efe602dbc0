"""Rendering: the texts, keyboards and callback data people see."""
