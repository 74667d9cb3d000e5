"""Partnership's domain: third-sector registry, tavoli, co-progettazione, accreditamento."""
