"""Event tickets: holding and paying orders, issuing signed tickets, and redeeming them at the door."""
