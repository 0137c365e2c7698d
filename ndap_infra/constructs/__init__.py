"""Constructs: the only hand-written code that touches cdktf resources."""
