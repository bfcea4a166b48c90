"""Treasury decisions: exposure, rebalance planning, runway."""
