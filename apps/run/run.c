/* apps/run/run.c — a training run: data, device, model, the epoch loop, reports and checkpoints.
 *
 * Each epoch: the order is drawn from (seed, epoch); every step is queued with no read-back (the
 * progress display reads the latest step's loss about twice a second); at the end one read of the
 * step statistics gives train CE, BCE and accuracy, a pass over the test set gives the test
 * figures, and a row goes to metrics.csv (synced), the checkpoint is rewritten atomically, and
 * summary.json is refreshed. Before training (epoch 0) and every --metrics-every epochs (and after
 * the last), the feature metrics of net/metrics.h run over the first --metrics-train-limit training
 * samples and over the test set (that pass also gives the test figures): their columns, E_t
 * against the epoch-0 losses, the convergence fit and hist/epoch_NNN.png. The losses of evaluated
 * epochs travel in the checkpoint, so a resumed run keeps its E_t. SIGINT/SIGTERM are blocked and polled between steps: the run
 * finishes its step, writes a checkpoint (with the epoch's partial statistics) and exits 130/143.
 * A non-finite loss stops the run naming the epoch, the step and the first layer that went bad.
 * With --data-parallel each step is run_parallel.c's (this rank's part of the batch, one gradient
 * sum over the ranks, which also carries the stop requests), the epoch's statistics are summed over
 * the ranks, and rank 0 alone evaluates, prints and writes the folder; the other ranks wait for its
 * verdict (app_dp_agree) at the points where it alone could fail.
 */
#define _POSIX_C_SOURCE 200809L
#include "run.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "plot.h"

#include "files.h"
#include "theory.h"
#include "run_internal.h"

/* ---- set-up ---- */

static int build_model(run *r)
{
    int rc = app_setup_model("train", r->o, r->rt, r->spec, &r->train, r->o->batch, 0, &r->model);
    if (rc) return rc;
    rt_status s = nn_data_upload(r->rt, r->train.pixels, r->train.labels, r->train.count,
                                 r->train.channels, r->train.height, r->train.width, r->mean, r->std,
                                 &r->dtrain);
    if (s == RT_OK)
        s = nn_data_upload(r->rt, r->test.pixels, r->test.labels, r->test.count, r->test.channels,
                           r->test.height, r->test.width, r->mean, r->std, &r->dtest);
    r->steps = (r->train.count + r->o->batch - 1) / r->o->batch;
    r->test_batches = (r->test.count + r->o->batch - 1) / r->o->batch;
    const int limit = r->o->metrics_train_limit;
    r->mtrain_count = limit > 0 && limit < r->train.count ? limit : r->train.count;
    r->mtrain_batches = r->o->metrics_every > 0 ? (r->mtrain_count + r->o->batch - 1) / r->o->batch : 0;
    /* statistics slots: the epoch's steps, the test batches, the metrics' training batches */
    if (s == RT_OK) s = nn_stats_reserve(r->model, r->steps + r->test_batches + r->mtrain_batches);
    if (s == RT_OK && r->o->metrics_every > 0)
        s = nn_metrics_ws_create(r->model, r->mtrain_count > r->test.count ? r->mtrain_count : r->test.count,
                                 &r->mws);
    if (s != RT_OK) return app_run_fail("", rt_error(r->rt));
    return 0;
}

/* ---- the epoch loop ---- */

static double lr_at(const run *r, long long step)
{
    const app_train_opts *o = r->o;
    if (o->schedule == APP_LR_COSINE) {
        const double T = (double)o->epochs * r->steps;
        return o->lr * 0.5 * (1.0 + cos(M_PI * (double)step / T));
    }
    const int epoch = (int)(step / r->steps);
    double lr = o->lr;
    for (int i = 0; i < o->nmilestones; i++)
        if (epoch >= o->milestones[i]) lr *= o->lr_decay;
    return lr;
}

/* SIGINT and SIGTERM set this flag; the loop polls it between steps. A signal handler cannot be
 * given a context, so this (with the time of the first signal, whether stderr is a terminal and
 * the message of a second signal, both set before the handlers are installed) is the program's
 * one piece of global mutable state. Handlers (rather than blocked signals) work whichever
 * thread the signal lands on: libraries start threads of their own before main, and the OpenCL
 * driver installs handlers of its own while it compiles (it calls the handler it found, so ours
 * still runs). */
static volatile sig_atomic_t stop_signal;
static volatile sig_atomic_t stop_signal_ms; /* CLOCK_MONOTONIC milliseconds of the first one, mod 10^9 */
static volatile sig_atomic_t stop_tty;       /* stderr is a terminal (a progress line may be open) */
static char stop_quit_msg[1400];             /* written once, before the handlers are installed */

static void say(const char *msg)
{
    if (stop_tty) (void)!write(STDERR_FILENO, "\n", 1);
    (void)!write(STDERR_FILENO, msg, strlen(msg));
}

/* The first signal asks for a stop after the current step (which may take minutes on a slow
 * device) and says so at once. Another one a second or more later quits at once, without the
 * step or its checkpoint: the checkpoint of the last finished epoch stays (a checkpoint being
 * written is replaced atomically, and --resume removes its temporary file). One within the
 * second is the same Ctrl-C arriving twice, through the terminal and through a sweep that
 * passes it on. Only async-signal-safe calls. */
static void on_stop_signal(int sig)
{
    const int saved_errno = errno;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    const sig_atomic_t ms = (sig_atomic_t)((ts.tv_sec % 1000000) * 1000 + ts.tv_nsec / 1000000);
    if (!stop_signal) {
        stop_signal_ms = ms; /* before the flag: a handler on another thread reads them in turn */
        stop_signal = sig;
        say(sig == SIGINT ? "gammacl train: SIGINT: stopping after this step, with a checkpoint (another "
                            "Ctrl-C quits at once, losing the unfinished epoch)\n"
                          : "gammacl train: SIGTERM: stopping after this step, with a checkpoint\n");
    } else if (ms - stop_signal_ms >= 1000 || ms < stop_signal_ms) { /* (ms wraps every 11.6 days) */
        say(stop_quit_msg);
        _exit(128 + stop_signal);
    }
    errno = saved_errno;
}

static void catch_stop_signals(const char *out)
{
    stop_tty = isatty(STDERR_FILENO);
    snprintf(stop_quit_msg, sizeof stop_quit_msg,
             "gammacl train: stopped at once by a second signal, without finishing the step; the last "
             "checkpoint written (if any) is kept: continue with gammacl train --resume %s\n", out);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGINT); /* not re-entered on its own thread */
    sigaddset(&sa.sa_mask, SIGTERM);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    /* a signal that arrived while a parent kept it blocked is delivered now */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

/* 130 or 143 after SIGINT or SIGTERM, else 0 */
static int interrupted(void) { return stop_signal ? 128 + stop_signal : 0; }

/* Where the last good state is, for messages after a failure. */
static const char *checkpoint_note(const run *r, char *buf, size_t len)
{
    if (r->wrote_checkpoint || r->o->resume[0])
        snprintf(buf, len, "%s/model.ckpt still holds the last good epoch", r->o->out);
    else
        snprintf(buf, len, "no checkpoint was written yet");
    return buf;
}

/* The first optimizer step of the whole run (1-based) as epoch and step within it. */
static void split_step(const run *r, long long step, int *epoch, int *in_epoch)
{
    *epoch = (int)((step - 1) / r->steps) + 1;
    *in_epoch = (int)((step - 1) % r->steps) + 1;
}

/* A non-finite loss at (epoch, step) (0-based; step -1: unknown), or a parameter that the
 * optimizer found or made non-finite: names where it started, keeps the last checkpoint. */
static int report_nonfinite(run *r, int epoch, int step)
{
    char where[256] = "", note[1400], at[64] = "";
    r->numeric_fault = 1;
    nn_nonfinite nf;
    rt_status s = nn_model_nonfinite(r->model, &nf);
    if (s == RT_OK && nf.step) {
        int e, k;
        split_step(r, nf.step, &e, &k);
        epoch = e - 1, step = k - 1;
        if (nf.already)
            snprintf(where, sizeof where, "parameter %s (already non-finite when that step began)",
                     nf.param);
        else
            snprintf(where, sizeof where, "parameter %s (made non-finite by that step's update)",
                     nf.param);
    } else if (step >= 0) {
        const int first = step * r->o->batch, left = r->train.count - first;
        s = nn_model_diagnose(r->model, r->dtrain, first, left < r->o->batch ? left : r->o->batch,
                              where, sizeof where);
    }
    if (step >= 0) snprintf(at, sizeof at, ", step %d (of %d)", step + 1, r->steps);
    fprintf(stderr,
            "gammacl train: NaN or infinite at epoch %d%s; first non-finite values: %s. The run "
            "stopped; %s. Lower --lr (now %g) or --gamma (now %g), or check the data.\n",
            epoch + 1, at, s == RT_OK && where[0] ? where : "not located",
            checkpoint_note(r, note, sizeof note), r->o->lr, r->o->gamma);
    return 1;
}

/* 1 (after the report) when the optimizer saw non-finite parameters */
static int params_nonfinite(run *r)
{
    nn_nonfinite nf;
    if (nn_model_nonfinite(r->model, &nf) != RT_OK) return app_run_fail("", rt_error(r->rt));
    return nf.step ? report_nonfinite(r, 0, -1) : 0;
}

/* Shows progress; returns 1 (after the message) if the loss or a parameter went non-finite. */
static int show_progress(run *r, int epoch, int step, int n_done)
{
    nn_stats st;
    if (nn_stats_sum(r->model, step, 1, &st) != RT_OK) return 0;
    if (!isfinite(st.ce) || !isfinite(st.bce)) {
        app_progress_clear(&r->progress);
        nn_stats all;
        if (nn_stats_sum(r->model, 0, step + 1, &all) == RT_OK && all.first_bad >= 0) step = all.first_bad;
        return report_nonfinite(r, epoch, step);
    }
    if (params_nonfinite(r)) return 1;
    const double loss = (r->o->loss ? st.bce : st.ce) / st.count;
    app_progress_show(&r->progress, step, n_done, loss, st.correct / st.count);
    return 0;
}

static int evaluate(run *r, nn_stats *test)
{
    if (app_run_classes_begin(r) != RT_OK) return -1;
    for (int b = 0; b < r->test_batches; b++) {
        const int first = b * r->o->batch;
        const int n = r->test.count - first < r->o->batch ? r->test.count - first : r->o->batch;
        if (nn_eval_batch(r->model, r->dtest, first, n, r->steps + b) != RT_OK) return -1;
    }
    if (nn_stats_sum(r->model, r->steps, r->test_batches, test) != RT_OK) return -1;
    return app_run_classes_read(r) == RT_OK ? 0 : -1;
}

static int finish_epoch(run *r, int epoch, double t0, double train_s, double lr)
{
    nn_stats tr, te;
    if (nn_stats_sum(r->model, 0, r->steps, &tr) != RT_OK) return app_run_fail("", rt_error(r->rt));
    if (tr.first_bad >= 0) return report_nonfinite(r, epoch, tr.first_bad);
    if (params_nonfinite(r)) return 1; /* a NaN that a ReLU hid from the loss */
    float bias = 0;
    if (nn_model_bias(r->model, &bias) != RT_OK) return app_run_fail("", rt_error(r->rt));
    app_epoch_metrics met = {0};
    if (app_run_metrics_due(r, epoch + 1)) {
        if (app_run_metrics(r, epoch + 1, bias, &met, &te) != 0) return 1;
    } else if (evaluate(r, &te) != 0) {
        return app_run_fail("evaluation", rt_error(r->rt));
    }
    app_epoch_row *row = &r->last;
    *row = (app_epoch_row){
        .epoch = epoch + 1, .trained = 1, .seconds = app_now() - t0, .lr = lr,
        .train_ce = tr.ce / tr.count, .train_bce = tr.bce / tr.count, .train_acc = tr.correct / tr.count,
        .test_ce = te.ce / te.count, .test_bce = te.bce / te.count, .test_acc = te.correct / te.count,
        .bias = bias, .b_star = nn_theory_bce_bias(r->o->gamma, r->classes),
        .img_per_s = train_s > 0 ? r->train.count / train_s : 0, .met = met};
    r->conv.epoch_seconds += row->seconds;
    r->conv.metrics_seconds += met.present ? met.seconds : 0;
    if (app_run_write_row(r, row) != 0) return 1;
    app_progress_clear(&r->progress);
    printf("epoch %d/%d  %.1fs  train CE %.4f BCE %.4f acc %.2f%%  test CE %.4f BCE %.4f acc "
           "%.2f%%  b %.3f (b* %.3f)  %.0f img/s\n",
           row->epoch, r->o->epochs, row->seconds, row->train_ce, row->train_bce,
           100 * row->train_acc, row->test_ce, row->test_bce, 100 * row->test_acc, row->bias,
           row->b_star, row->img_per_s);
    if (met.present) app_run_print_metrics(&met);
    fflush(stdout);
    if (app_run_save_checkpoint(r, epoch + 1, 0) != 0) return 1;
    return app_write_summary(r->o, r->rt, r->model, row, &r->last_metrics, &r->conv, &r->cls,
                             r->train_seconds, r->train_images, 0);
}

/* After SIGINT/SIGTERM: a checkpoint of the steps done (unless they went non-finite), a message
 * saying how to continue, and the exit code 130/143. */
static int stop_mid_epoch(run *r, int epoch, int steps_done, int sig)
{
    app_progress_clear(&r->progress);
    if (rt_finish(r->rt) != RT_OK) return app_run_fail("", rt_error(r->rt));
    /* data-parallel: the checkpoint keeps the whole job's statistics of the steps done, and every
     * rank waits until rank 0 has written it */
    if (app_dp_sum_stats(r, 0, steps_done) != 0) return 1;
    int rc = r->rank == 0 && (params_nonfinite(r) || app_run_save_checkpoint(r, epoch, steps_done) != 0);
    if ((rc = app_dp_agree(r, rc, NULL)) != 0) return rc;
    r->dp_known = 1; /* every rank stops here */
    if (r->rank == 0)
        fprintf(stderr, "gammacl train: stopped by %s after epoch %d, step %d; checkpoint written. "
                "Continue with: gammacl train --resume %s\n", sig == 130 ? "SIGINT" : "SIGTERM",
                epoch + 1, steps_done, r->o->out);
    return sig;
}

/* One data-parallel step (run_parallel.c): every rank reaches the gradient sum, also after a
 * failure of its own or a non-finite loss that rank 0's progress display found, so that the whole
 * job stops at the same step; *sig gets the stop any rank asked for. */
static int parallel_step(run *r, int epoch, int step, int first, int n, int first_step, float lr, int *sig)
{
    int failed = app_dp_grads(r, first, n, step) != 0;
    if (!failed && app_progress_due(&r->progress, step) &&
        show_progress(r, epoch, step, first + n - first_step * r->o->batch))
        failed = 1;
    return app_dp_reduce(r, failed, interrupted(), lr, epoch, step, sig);
}

/* One epoch's steps from first_step; *stopped gets 130/143 when a signal ended the epoch early,
 * and 0 otherwise (also when it came at the last step: the epoch is then finished normally). */
static int run_steps(run *r, int epoch, int first_step, double *lr, int *stopped)
{
    *stopped = 0;
    /* the host stays at most AHEAD steps in front of the device, so that a stop request is
     * served after the step in flight, not after everything queued (an epoch, without it) */
    enum { AHEAD = 2 };
    rt_fence *fence[AHEAD] = {NULL};
    int rc = 0;
    for (int step = first_step; step < r->steps && rc == 0; step++) {
        const int first = step * r->o->batch;
        const int n = r->train.count - first < r->o->batch ? r->train.count - first : r->o->batch;
        *lr = lr_at(r, (long long)epoch * r->steps + step);
        rt_fence **slot = &fence[step % AHEAD];
        if (rt_fence_wait(r->rt, *slot) != RT_OK) {
            *slot = NULL;
            rc = app_run_fail("training step", rt_error(r->rt));
            break;
        }
        *slot = NULL;
        if (r->comm) {
            int sig = 0;
            if ((rc = parallel_step(r, epoch, step, first, n, first_step, (float)*lr, &sig)) != 0) break;
            if (sig && step + 1 < r->steps) {
                *stopped = sig;
                rc = stop_mid_epoch(r, epoch, step + 1, sig);
                break;
            }
            continue;
        }
        if (nn_train_step(r->model, r->dtrain, first, n, (float)*lr, step) != RT_OK ||
            rt_fence_mark(r->rt, slot) != RT_OK) {
            rc = app_run_fail("training step", rt_error(r->rt));
            break;
        }
        if (app_progress_due(&r->progress, step) &&
            show_progress(r, epoch, step, first + n - first_step * r->o->batch)) {
            rc = 1;
            break;
        }
        const int sig = interrupted();
        if (sig && step + 1 < r->steps) {
            *stopped = sig;
            rc = stop_mid_epoch(r, epoch, step + 1, sig);
            break;
        }
    }
    for (int i = 0; i < AHEAD; i++) rt_fence_release(fence[i]);
    return rc;
}

static int train_epochs(run *r)
{
    int32_t *order = malloc((size_t)r->train.count * sizeof *order);
    if (!order) return app_run_fail("", "out of memory");
    int rc = 0;
    for (int epoch = r->start_epoch; epoch < r->o->epochs && rc == 0; epoch++) {
        const double t0 = app_now();
        const int first_step = epoch == r->start_epoch ? r->start_step : 0;
        nn_shuffle(r->o->seed, (uint64_t)epoch, order, r->train.count);
        if (nn_data_set_order(r->rt, r->dtrain, order) != RT_OK) {
            rc = app_run_fail("", rt_error(r->rt));
            break;
        }
        /* --augment draws from (seed, epoch, position), so a resumed epoch augments the same */
        nn_data_set_augment(r->dtrain, (unsigned)r->o->augment, r->o->seed, (uint64_t)epoch);
        app_progress_epoch(&r->progress, epoch + 1, r->steps);
        double lr = r->o->lr;
        int stopped = 0;
        rc = run_steps(r, epoch, first_step, &lr, &stopped);
        if (rc || stopped) break;
        if (rt_finish(r->rt) != RT_OK) {
            rc = app_run_fail("", rt_error(r->rt));
            break;
        }
        const double train_s = app_now() - t0;
        r->train_seconds += train_s;
        r->train_images += (double)r->train.count;
        if (app_dp_epoch_end(r, epoch) != 0) {
            rc = 1;
            break;
        }
        rc = r->rank == 0 ? finish_epoch(r, epoch, t0, train_s, lr) : 0;
        int sig = interrupted();
        rc = app_dp_agree(r, rc, &sig); /* data-parallel: rank 0's verdict, and any rank's stop */
        /* a signal during the last step: the epoch is done and saved, then the run stops */
        if (rc == 0 && sig && epoch + 1 < r->o->epochs) {
            if (r->rank == 0)
                fprintf(stderr, "gammacl train: stopped by %s after epoch %d; checkpoint written. "
                        "Continue with: gammacl train --resume %s\n", sig == 130 ? "SIGINT" : "SIGTERM",
                        epoch + 1, r->o->out);
            rc = sig;
        }
    }
    free(order);
    return rc;
}

/* ---- the run ---- */

static int prepare_output(run *r)
{
    char err[1024];
    if (app_make_dirs(r->o->out, err, sizeof err) != 0) return app_run_fail("--out", err), 2;
    char path[1200], header[CSV_LINE];
    snprintf(path, sizeof path, "%s/metrics.csv", r->o->out);
    app_csv_header(header, sizeof header);
    /* a resumed run keeps the rows of its finished epochs, and the epoch-0 row when it has one */
    const int keep = r->o->resume[0] ? r->start_epoch + (r->o->metrics_every > 0) : -1;
    /* an older version's metrics.csv (fewer columns at the end) is upgraded */
    if (app_csv_open(&r->csv, path, header, keep, 1, err, sizeof err) != 0) return app_run_fail("", err);
    if (app_run_classes_open(r, keep, err, sizeof err) != 0) return app_run_fail("", err);
    return 0;
}

static void release(run *r, nn_ckpt *resume)
{
    app_csv_close(&r->csv);
    app_run_classes_free(r);
    nn_ckpt_free(resume);
    nn_data_free(r->rt, r->dtrain);
    nn_data_free(r->rt, r->dtest);
    nn_metrics_ws_free(r->model, r->mws);
    nn_model_free(r->model);
    app_run_history_free(&r->hist);
    rt_close(r->rt);
    free(r->spec);
    app_dataset_free(&r->train);
    app_dataset_free(&r->test);
    app_plot_shutdown();
}

int app_train_run(app_train_opts *o)
{
    run r = {.o = o, .ranks = 1};
    nn_ckpt resume = {0};
    int rc = 0;
    char err[1024];
    int lock = -1;
    const int asked_parallel = o->data_parallel; /* --resume replaces o from the checkpoint */
    if (o->resume[0]) rc = app_run_resume_options(o, &resume);
    if (!rc) rc = app_dp_join(&r, asked_parallel);
    const int writer = r.rank == 0; /* data-parallel: rank 0 alone touches the folder and prints */
    if (!rc && !o->resume[0] && writer && app_make_dirs(o->out, err, sizeof err) != 0)
        rc = (app_run_fail("--out", err), 2);
    if (!rc && writer && (lock = app_lock_dir(o->out, "gammacl train", err, sizeof err)) < 0)
        rc = (app_run_fail("", err), 2);
    if (!rc && writer) app_run_remove_temporaries(o->out);
    if (!rc && writer && !o->resume[0]) rc = app_run_check_out_dir(o);
    if (!rc) rc = app_setup_data("train", o, &r.train, &r.test, r.mean, r.std);
    if (!rc && app_augment_check(o, r.train.height, r.train.width, err, sizeof err) != 0)
        rc = (app_run_fail("", err), 2);
    if (!rc) r.classes = r.train.classes;
    if (!rc) rc = app_setup_spec("train", o, &r.train, &r.spec);
    if (!rc) rc = app_dp_open_device(&r);
    catch_stop_signals(o->out); /* after the driver set up its own handlers, so ours stays in charge */
    if (!rc) rc = build_model(&r);
    if (!rc) rc = app_run_classes_setup(&r);
    if (!rc && o->resume[0]) rc = app_run_restore_checkpoint(&r, &resume);
    if (!rc) rc = nn_model_set_step(r.model, (long long)r.start_epoch * r.steps + r.start_step);
    if (!rc) rc = app_dp_setup(&r);
    if (!rc && writer) rc = prepare_output(&r);
    /* data-parallel: every rank has read the checkpoint before rank 0 may rewrite it */
    rc = app_dp_agree(&r, rc, NULL);
    if (!rc) {
        if (writer)
            printf("%s on %s: %d train / %d test images of %dx%dx%d, %d classes, %s, gamma %g, %d epochs "
                   "of %d steps%s\n", o->model, o->data, r.train.count, r.test.count, r.train.channels,
                   r.train.height, r.train.width, r.classes, o->loss ? "BCE" : "CE", o->gamma, o->epochs,
                   r.steps, o->resume[0] ? " (resumed)" : "");
        if (writer && r.comm && o->batch % r.ranks == 0)
            printf("data-parallel over %d ranks: %d images of each batch of %d per rank\n", r.ranks,
                   o->batch / r.ranks, o->batch);
        else if (writer && r.comm)
            printf("data-parallel over %d ranks: %d or %d images of each batch of %d per rank\n", r.ranks,
                   o->batch / r.ranks, o->batch / r.ranks + 1, o->batch);
        app_progress_init(&r.progress, writer ? o->progress : 0, o->epochs);
        if (o->metrics_every > 0 && r.start_epoch == 0 && r.start_step == 0) {
            if (writer) rc = app_run_evaluate_untrained(&r);
            rc = app_dp_agree(&r, rc, NULL);
        }
        if (rc == 0) rc = train_epochs(&r);
        if (rc == 0) r.dp_known = 1; /* no collective call follows */
        if (rc == 0 && writer) {
            rc = app_write_summary(o, r.rt, r.model, &r.last, &r.last_metrics, &r.conv, &r.cls,
                                   r.train_seconds, r.train_images, 1);
            app_run_classes_print(&r);
            printf("done: %s/metrics.csv, %s/class_acc.csv, %s/summary.json, %s/model.ckpt\n", o->out, o->out, o->out,
                   o->out);
        } else if (rc == 1 && writer && !r.numeric_fault && (r.wrote_checkpoint || o->resume[0])) {
            fprintf(stderr, "gammacl train: the last checkpoint is %s/model.ckpt; once the cause is "
                    "fixed, continue with: gammacl train --resume %s\n", o->out, o->out);
        }
    }
    release(&r, &resume);
    if (lock >= 0) close(lock);
    app_dp_release(&r, rc);
    return rc;
}
