"""ComponentResources of the spawn-audit program, one module per concern."""
