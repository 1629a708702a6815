"""Daily reconciliation of the ledger's cash at each payment vendor with the vendor's own record."""
