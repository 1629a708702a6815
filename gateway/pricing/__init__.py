"""Stay prices and stay rules: the one calculation quotes, holds and search share."""
