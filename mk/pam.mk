# pam: filled in by its issue
