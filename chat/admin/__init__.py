"""Admin console, chat side: groups and rooms, their members, system and test messages, history reads."""
