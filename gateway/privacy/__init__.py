"""Personal data: the registry of its kinds, deletion, export, retention and consent."""
