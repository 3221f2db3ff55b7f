/* net/checkpoint.c — placeholder until its author lands it. */
