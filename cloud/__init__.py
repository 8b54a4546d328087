"""The cloud tier: FastAPI services on a shared platform (cloud/common)."""
