"""User files: direct and server-side uploads, confirmation and thumbnails, access, deletion."""

from gateway.files.lifecycle import attachable_photos, delete_files

__all__ = ["attachable_photos", "delete_files"]
