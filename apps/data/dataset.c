/* apps/data/dataset.c — placeholder until its author lands it. */
