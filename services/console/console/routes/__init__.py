"""The console's pages, one module per area (and per journey of the people who use it)."""
