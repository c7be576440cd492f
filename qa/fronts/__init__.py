"""The fronts: the command line, the chat REPL and the HTTP server, thin over the library."""
