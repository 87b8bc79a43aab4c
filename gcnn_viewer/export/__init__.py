"""export (see DESIGN §2)."""
