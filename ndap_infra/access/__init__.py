"""The access layer: persona roles, the data-scientist boundary, data sharing. Pure data."""
