"""The marketplace's money: a double-entry ledger, the platform's commission, balances and their check."""
