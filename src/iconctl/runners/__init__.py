"""One runner per external tool, one method per tool verb, reading the tools' machine output."""
