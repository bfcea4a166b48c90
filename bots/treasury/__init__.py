"""Treasury: inventory across the bots' accounts, balances, the rebalance workflow,
withdrawals and transfers on their way."""
