"""Files the tool writes: whole directories replaced atomically."""
