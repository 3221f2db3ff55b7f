/* apps/report/progress.h — training progress: a live bar on a terminal (epoch, batch, img/s,
 * loss, ETA), plain lines every ~10% of an epoch otherwise. Writes to stderr. */
#ifndef GAMMACL_PROGRESS_H
#define GAMMACL_PROGRESS_H

typedef struct app_progress {
    int tty, enabled;
    int epoch, epochs, steps;
    double t_epoch, t_last;
    int last_decile;
} app_progress;

void app_progress_init(app_progress *p, int enabled, int epochs);
void app_progress_epoch(app_progress *p, int epoch, int steps);
/* 1 when a refresh is due (the caller then reads the current loss from the device) */
int app_progress_due(const app_progress *p, int step);
void app_progress_show(app_progress *p, int step, double images, double loss, double acc);
void app_progress_clear(app_progress *p);
double app_now(void);

#endif
