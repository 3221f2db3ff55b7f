/* apps/data/idx.c — placeholder until its author lands it. */
