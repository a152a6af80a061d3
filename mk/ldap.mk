# ldap: filled in by its issue
