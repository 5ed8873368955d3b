"""Conversation: the service both front-ends use, button actions and rendering."""
