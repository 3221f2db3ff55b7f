/* apps/report/progress.c — see progress.h. */
#define _POSIX_C_SOURCE 200809L
#include "progress.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

double app_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void app_progress_init(app_progress *p, int enabled, int epochs)
{
    *p = (app_progress){.tty = isatty(fileno(stderr)), .enabled = enabled, .epochs = epochs};
}

void app_progress_epoch(app_progress *p, int epoch, int steps)
{
    p->epoch = epoch;
    p->steps = steps;
    p->t_epoch = p->t_last = app_now();
    p->last_decile = 0;
}

int app_progress_due(const app_progress *p, int step)
{
    if (!p->enabled) return 0;
    if (p->tty) return app_now() - p->t_last >= 0.5;
    return (step + 1) * 10 / p->steps > p->last_decile;
}

static void fmt_time(double s, char *out, size_t len)
{
    int t = s < 0 ? 0 : (int)(s + 0.5);
    snprintf(out, len, "%d:%02d", t / 60, t % 60);
}

void app_progress_show(app_progress *p, int step, double images, double loss, double acc)
{
    const double now = app_now(), el = now - p->t_epoch;
    const double rate = el > 0 ? images / el : 0;
    char eta_s[16] = "?"; /* after one step the rate still includes kernel compilation */
    if (step > 0) fmt_time(el / (step + 1) * (p->steps - step - 1), eta_s, sizeof eta_s);
    p->t_last = now;
    p->last_decile = (step + 1) * 10 / p->steps;
    if (p->tty) {
        char bar[21];
        const int fill = (int)(20.0 * (step + 1) / p->steps);
        for (int i = 0; i < 20; i++) bar[i] = i < fill ? '=' : (i == fill ? '>' : ' ');
        bar[20] = 0;
        fprintf(stderr, "\repoch %d/%d [%s] %d/%d  %5.0f img/s  loss %.4f  acc %5.1f%%  ETA %s  ",
                p->epoch, p->epochs, bar, step + 1, p->steps, rate, loss, 100 * acc, eta_s);
    } else {
        fprintf(stderr, "epoch %d/%d  batch %d/%d  %.0f img/s  loss %.4f  acc %.1f%%  ETA %s\n",
                p->epoch, p->epochs, step + 1, p->steps, rate, loss, 100 * acc, eta_s);
    }
    fflush(stderr);
}

void app_progress_clear(app_progress *p)
{
    if (p->enabled && p->tty) fprintf(stderr, "\r%100s\r", "");
}
