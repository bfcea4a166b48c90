"""What every capability stands on: plain-SQL rows, locks in Redis, encrypted credentials,
checks on typed text."""
