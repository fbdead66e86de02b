"""The newsroom's nouns and rules, below everything: the article model, settings, the clock,
errors, tokens, cursors, tag keys and the partner delivery rule. No I/O, no service."""
