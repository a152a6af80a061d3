# audit: filled in by its issue
