"""Accounts: who may sign in (users, their scope, passwords)."""
