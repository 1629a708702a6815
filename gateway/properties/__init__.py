"""Property listings: agents create and manage them, guests search them."""
