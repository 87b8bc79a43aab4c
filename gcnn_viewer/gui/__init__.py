"""gui (see DESIGN §2)."""
