"""Search benchmark: 10,000 listings, a near + dates + filters search, cold and cached."""
