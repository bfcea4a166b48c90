"""The rebalance panel and its settings: inventory, transfers and their approvals."""
