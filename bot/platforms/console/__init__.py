"""A local room in the terminal: the whole core with no Discord or Slack."""
