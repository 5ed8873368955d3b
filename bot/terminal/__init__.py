"""Terminal edge: the command line and the chat."""
