/* apps/run/run_checkpoint.c — checkpoints of a run and --resume.
 *
 * A checkpoint is written at every epoch end and when SIGINT/SIGTERM stops a run mid-epoch (then
 * with the epoch's step statistics, so its metrics.csv row comes out exactly as in an
 * uninterrupted run). It carries the run's options as meta lines, so --resume restores the same
 * run, and the device it ran on, since bit-for-bit agreement holds on the same device only.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run_internal.h"


/* Appends a tensor of count floats named name to c (which then owns data); -1 if out of memory. */
int app_ckpt_add_tensor(nn_ckpt *c, const char *name, float *data, size_t count)
{
    nn_ckpt_tensor *t = realloc(c->tensors, (size_t)(c->ntensors + 1) * sizeof *t);
    if (!t) {
        free(data);
        return -1;
    }
    c->tensors = t;
    nn_ckpt_tensor *e = &c->tensors[c->ntensors++];
    memset(e, 0, sizeof *e);
    snprintf(e->name, sizeof e->name, "%s", name);
    e->count = count;
    e->data = data;
    return 0;
}

/* The run's options as meta lines, and the device that produced the state (informative: a
 * resume on another device continues, but is then no longer bit-identical). */
static char *device_meta(const run *r)
{
    char *opts = app_train_opts_to_meta(r->o);
    if (!opts) return NULL;
    const rt_device_info *d = rt_device(r->rt);
    const size_t len = strlen(opts) + strlen(d->name) + strlen(d->platform) + strlen(d->driver) + 96;
    char *meta = malloc(len);
    if (meta)
        snprintf(meta, len, "%sdevice_name=%s\ndevice_platform=%s\ndevice_driver=%s\n", opts, d->name,
                 d->platform, d->driver);
    free(opts);
    return meta;
}

int app_run_save_checkpoint(run *r, int epochs_done, int steps_in_epoch)
{
    nn_ckpt c = {0};
    c.loss = r->o->loss;
    c.gamma = r->o->gamma;
    c.seed = r->o->seed;
    c.epoch = epochs_done;
    c.step = (int64_t)epochs_done * r->steps + steps_in_epoch;
    c.meta = device_meta(r);
    rt_status s = c.meta ? nn_model_export(r->model, &c) : RT_E_ALLOC;
    if (s == RT_OK && steps_in_epoch > 0) {
        /* a mid-epoch stop keeps the statistics of the steps done, so the epoch's row is exact */
        float *h = malloc((size_t)steps_in_epoch * 4 * sizeof *h);
        if (!h || app_ckpt_add_tensor(&c, "run.epoch_stats", h, (size_t)steps_in_epoch * 4) != 0) s = RT_E_ALLOC;
        else s = nn_stats_raw(r->model, 0, steps_in_epoch, h);
    }
    if (s == RT_OK && (app_run_history_save(r, &c) != 0 || app_run_classes_save(r, &c) != 0)) s = RT_E_ALLOC;
    char path[1200], err[1024];
    snprintf(path, sizeof path, "%s/model.ckpt", r->o->out);
    int rc = 0;
    if (s != RT_OK) rc = app_run_fail("checkpoint", s == RT_E_ALLOC ? "out of memory" : rt_error(r->rt));
    else if (nn_ckpt_write(path, &c, err, sizeof err) != 0) rc = app_run_fail("checkpoint", err);
    else r->wrote_checkpoint = 1;
    nn_ckpt_free(&c);
    return rc;
}

int app_run_restore_checkpoint(run *r, nn_ckpt *c)
{
    char name[128] = "", driver[128] = "";
    nn_ckpt_meta_get(c, "device_name", name, sizeof name);
    nn_ckpt_meta_get(c, "device_driver", driver, sizeof driver);
    const rt_device_info *d = rt_device(r->rt);
    if (name[0] && (strcmp(name, d->name) != 0 || strcmp(driver, d->driver) != 0))
        fprintf(stderr, "gammacl train: note: the checkpoint was written on '%s' (driver %s); "
                "continuing on '%s' (driver %s), which sums in another order: the run continues, "
                "but is no longer bit-identical to one that never stopped\n", name, driver, d->name,
                d->driver);
    if (strcmp(c->spec, r->spec) != 0)
        return app_run_fail("--resume", "the checkpoint's model spec differs from the model's file now");
    rt_status s = nn_model_import(r->model, c);
    if (s != RT_OK) return app_run_fail("--resume", rt_error(r->rt));
    r->start_epoch = c->epoch;
    r->start_step = (int)(c->step - (int64_t)c->epoch * r->steps);
    if (r->start_step < 0 || r->start_step >= r->steps || c->epoch > r->o->epochs)
        return app_run_fail("--resume", "the checkpoint's step count does not fit this run");
    const nn_ckpt_tensor *t = nn_ckpt_find(c, "run.epoch_stats");
    if (r->start_step > 0) {
        if (!t || t->count != (uint64_t)r->start_step * 4)
            return app_run_fail("--resume", "the checkpoint lacks the statistics of its unfinished epoch");
        /* data-parallel: these are the whole job's statistics; the epoch end sums the ranks' */
        if (r->rank == 0 && nn_stats_restore(r->model, 0, r->start_step, t->data) != RT_OK)
            return app_run_fail("--resume", rt_error(r->rt));
    }
    const int rc = app_run_history_restore(r, c);
    return rc ? rc : app_run_classes_restore(r, c);
}

int app_run_resume_options(app_train_opts *o, nn_ckpt *c)
{
    char path[1200], err[1024];
    snprintf(path, sizeof path, "%s/model.ckpt", o->resume);
    struct stat st;
    if (stat(path, &st) != 0 && errno == ENOENT) {
        fprintf(stderr, "gammacl train: --resume: there is no %s: no epoch of that run finished, so "
                "there is nothing to continue; start the run again with the same command and --out "
                "%s (without --resume)\n", path, o->resume);
        return 2;
    }
    if (nn_ckpt_read(path, c, err, sizeof err) != 0) return app_run_fail("--resume", err), 2;
    app_train_opts keep = *o;
    app_train_defaults(o);
    if (app_train_opts_from_meta(c->meta, o, err, sizeof err) != 0) return app_run_fail("--resume", err), 2;
    snprintf(o->device, sizeof o->device, "%s", keep.device);
    snprintf(o->out, sizeof o->out, "%s", keep.resume);
    snprintf(o->resume, sizeof o->resume, "%s", keep.resume);
    o->progress = keep.progress;
    if (c->epoch >= o->epochs) {
        fprintf(stderr, "gammacl train: the run in %s already finished its %d epochs\n", o->resume, o->epochs);
        return 2;
    }
    return 0;
}

/* A temporary file an atomic write leaves when killed: NAME.tmp.PID (or NAME.tmp). */
static int is_temporary(const char *name)
{
    const char *t = strstr(name, ".tmp");
    if (!t || t == name) return 0;
    if (t[4] == 0) return 1;
    if (t[4] != '.' || !t[5]) return 0;
    for (const char *p = t + 5; *p; p++)
        if (*p < '0' || *p > '9') return 0;
    return 1;
}

static void remove_temporaries_in(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    for (struct dirent *e = readdir(d); e; e = readdir(d))
        if (is_temporary(e->d_name)) {
            char path[1400];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    closedir(d);
}

void app_run_remove_temporaries(const char *dir)
{
    char hist[1300];
    remove_temporaries_in(dir);
    snprintf(hist, sizeof hist, "%s/hist", dir);
    remove_temporaries_in(hist);
}

int app_run_check_out_dir(const app_train_opts *o)
{
    /* only a checkpoint holds finished work; a run killed before its first epoch ended left at
     * most metrics.csv and summary.json of the evaluation before training, and starts again */
    static const char *const run_files[] = {"model.ckpt"};
    for (size_t i = 0; i < sizeof run_files / sizeof run_files[0]; i++) {
        char path[1200];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", o->out, run_files[i]);
        if (stat(path, &st) == 0) {
            fprintf(stderr, "gammacl train: %s already holds a run (%s); continue it with "
                    "`gammacl train --resume %s`, or choose another --out (or remove the folder)\n",
                    o->out, run_files[i], o->out);
            return 2;
        }
    }
    return 0;
}
