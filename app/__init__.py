"""The application: the composition root the CLI and the daemon both build on."""
