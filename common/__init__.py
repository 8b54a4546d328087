"""What the hub and the cloud share, importing nothing of ours: the error base, the wire's constants,
file writing and the user's directories. Every other package may import it (docs/ARCHITECTURE.md)."""
