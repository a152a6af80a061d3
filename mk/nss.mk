# nss: filled in by its issue
