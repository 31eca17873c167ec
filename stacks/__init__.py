"""One stack per stage of the workflow; stacks only compose constructs."""
