"""Read models of monitoring: tables (RLS-protected) and the projections that fill them."""
