"""Shipped data: trained weights, icon, sample digits (package gcnn_viewer.resources)."""
