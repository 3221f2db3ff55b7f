/* apps/data/cifar.c — placeholder until its author lands it. */
