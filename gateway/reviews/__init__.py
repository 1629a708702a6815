"""Reviews after a stay: writing them, the double-blind reveal, the averages they feed, replies and reports."""
