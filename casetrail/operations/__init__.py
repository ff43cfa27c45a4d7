"""Commands an operator runs against a live deployment (shipped in the image)."""
