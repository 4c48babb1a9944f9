"""One command set for admins and moderators, shared by every adapter (see `catalogue`)."""
