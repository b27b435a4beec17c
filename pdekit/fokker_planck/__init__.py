"""Fokker–Planck: conservative, positivity-preserving drift–diffusion of densities (Chang–Cooper)."""
