"""The logic behind each API family; routes in :mod:`lamina.server` call these."""
