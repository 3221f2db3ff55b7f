/* net/theory.c — placeholder until its author lands it. */
