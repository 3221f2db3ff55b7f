/* apps/data/pngdir.c — placeholder until its author lands it. */
