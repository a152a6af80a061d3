# packaging: filled in by its issue
