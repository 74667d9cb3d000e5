"""Finance's domain: funds, riparto, budget and the spending chain."""
