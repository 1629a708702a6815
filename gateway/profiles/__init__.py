"""People on Lango: their profile, changing their email or phone, and applying to host."""
