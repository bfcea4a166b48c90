"""What the desk reads: liquidity against targets, a market's recent history."""
