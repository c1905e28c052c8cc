"""Services: one function per use-case, called by the API, the pages and the CLI."""
