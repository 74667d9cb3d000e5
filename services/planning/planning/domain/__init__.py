"""Planning's domain: the Piano Sociale di Zona (and, later, the Comitato Istituzionale)."""
