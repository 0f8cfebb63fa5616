"""The fitted-transform base's durable fit: batch and fit: stream (plugins/lib/fitted),
through online-scaler and incremental-pca in the harness: a process killed
(SIGKILL) while rows arrive, then rerun on the same state directory, emits
what an uninterrupted run emits (same ids in the same order, once each, the
same values within float rounding) whether the rerun's source skips the
rows the checkpoint holds or sends every row again (duplicates skipped);
also after two kills in a row, and after a crash that came once the stage
had emitted everything.  The checks are shown to catch a rerun that
lost its checkpoint.  A fresh run ignores an earlier run's checkpoint.  A
damaged checkpoint is a clear error, never a quiet fresh start.  fit:
stream continues its statistics and model version after a kill: the rows
after the last refit go on as uninterrupted, and rows the statistics hold
that come again are transformed by the current model, not counted twice."""
import os
import shutil
import signal
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.join(os.environ["FLOWRUN_SOURCE_DIR"], "tests/plugins/lib/stats"))
import reference as R  # noqa: E402

N, D, K, EVERY = 700, 17, 5, 100
PLUGINS = [("online-scaler", D, {"flavor": "sklearn"}),
           ("incremental-pca", K, {"components": K, "flavor": "sklearn"})]


def attempt(tmp, plugin, x, out_dim, state, config, start=0, kill_after=None, resume=None):
    """One run on state; a rerun (start > 0, or resume) resumes the interrupted one."""
    env = {"STAGE_ROWS_STATE": state, "STAGE_ROWS_FROM": str(start)}
    if resume or (resume is None and start):
        env["STAGE_ROWS_RESUME"] = "1"
    if kill_after is not None:
        env["STAGE_ROWS_KILL_AFTER"] = str(kill_after)
    return R.run_stage_env(tmp, plugin, x, out_dim, env, checkpoint_rows=EVERY,
                           checkpoint_every=0, **config)


def same_as(out, meta, ref, ref_meta):
    return (out is not None and meta == ref_meta and out.shape == ref.shape and
            R.rows_close(out, ref, 1e-5))


def two_kills(tmp, plugin, x, out_dim, config, want, want_meta):
    """Killed after 350 rows, then after 250 more (rows 300..549), then a
    rerun from row 500: it emits want, and 500 rows were reloaded."""
    state = os.path.join(tmp, "s-twice")
    attempt(tmp, plugin, x, out_dim, state, config, kill_after=350)
    _, _, _, rc = attempt(tmp, plugin, x, out_dim, state, config, start=300, kill_after=250)
    out, meta, counts, rc2 = attempt(tmp, plugin, x, out_dim, state, config, start=500)
    shutil.rmtree(state)
    return (rc == -signal.SIGKILL and rc2 == 0 and same_as(out, meta, want, want_meta) and
            counts.get("rows_reloaded") == 500)


def plugin_case(tmp, plugin, out_dim, config, x, failures):
    ref, ref_meta, counts, rc = attempt(tmp, plugin, x, out_dim, os.path.join(tmp, "s0"), config)
    R.check(f"{plugin}: uninterrupted run", rc == 0 and ref_meta == R.expected_meta(N, [1] * N),
            failures)
    R.check(f"{plugin}: checkpoints declare every id", counts.get("checkpointed") == N, failures)

    # Killed after 350 rows: 300 were checkpointed (every 100), 50 not.
    for rerun_from, what in ((300, "the source skips the held rows"),
                             (0, "the source sends every row again")):
        state = os.path.join(tmp, f"s-{rerun_from}")
        _, _, _, rc = attempt(tmp, plugin, x, out_dim, state, config, kill_after=350)
        R.check(f"{plugin}: killed", rc == -signal.SIGKILL, failures)
        out, meta, counts, rc = attempt(tmp, plugin, x, out_dim, state, config, start=rerun_from,
                                        resume=True)
        R.check(f"{plugin}: rerun after a kill, {what}: as uninterrupted",
                rc == 0 and same_as(out, meta, ref, ref_meta), failures)
        skipped = 0 if rerun_from else 300
        R.check(f"{plugin}: {what}: 300 rows reloaded, {skipped} duplicates skipped",
                counts.get("rows_reloaded") == 300 and counts.get("duplicates_skipped") == skipped,
                failures)

    R.check(f"{plugin}: two kills, then a rerun: as uninterrupted",
            two_kills(tmp, plugin, x, out_dim, config, ref, ref_meta), failures)

    # A crash after the stage emitted everything (the sinks had not
    # committed): the rerun gets no row (all held) and emits them all again.
    state = os.path.join(tmp, "s-after-flush")
    attempt(tmp, plugin, x, out_dim, state, config)
    out, meta, counts, rc = attempt(tmp, plugin, x, out_dim, state, config, start=N)
    R.check(f"{plugin}: rerun after its flush, no row coming: as uninterrupted",
            rc == 0 and same_as(out, meta, ref, ref_meta) and counts.get("rows_reloaded") == N,
            failures)

    # A fresh (or incremental) run on a state directory holding a checkpoint
    # does not reload it: those rows belong to an earlier run.
    out, meta, counts, rc = attempt(tmp, plugin, x, out_dim, state, config, resume=False)
    R.check(f"{plugin}: a fresh run ignores an earlier run's checkpoint",
            rc == 0 and same_as(out, meta, ref, ref_meta) and counts.get("rows_reloaded") == 0,
            failures)

    # The check catches a rerun that lost its checkpoint (a new state
    # directory): rows 300.. only.
    out, meta, _, _ = attempt(tmp, plugin, x, out_dim, os.path.join(tmp, "s-lost"), config,
                              start=300)
    R.check(f"{plugin}: catches a lost checkpoint", not same_as(out, meta, ref, ref_meta),
            failures)

    # A damaged checkpoint file: a clear error naming it.
    state = os.path.join(tmp, "s-damaged")
    attempt(tmp, plugin, x, out_dim, state, config, kill_after=150)
    with open(os.path.join(state, "rows.checkpoint"), "w") as f:
        f.write("garbage\n")
    _, _, _, rc = attempt(tmp, plugin, x, out_dim, state, config, start=100)
    R.check(f"{plugin}: a damaged checkpoint fails the stage", rc not in (0, -signal.SIGKILL),
            failures)
    for d in os.listdir(tmp):
        if d.startswith("s"):
            shutil.rmtree(os.path.join(tmp, d))


def affine_predict(x_fit, y_fit, x):
    """The affine map (y = W x + b: both stages' transforms) that takes
    x_fit to y_fit, by least squares in float64, applied to x."""
    a = np.hstack([x_fit.astype(np.float64), np.ones((len(x_fit), 1))])
    w, *_ = np.linalg.lstsq(a, y_fit.astype(np.float64), rcond=None)
    return np.hstack([x.astype(np.float64), np.ones((len(x), 1))]) @ w


def stream_case(tmp, plugin, out_dim, config, x, failures):
    """fit: stream: refits after rows 100, 200, ... save the statistics;
    killed after 350 rows, the statistics of rows 0..299 (model 3) are
    kept, rows 300..349 were waiting and come again."""
    config = dict(config, fit="stream", refit_every=EVERY)
    versions = [r // EVERY + 1 for r in range(N)]
    ref, ref_meta, _, rc = attempt(tmp, plugin, x, out_dim, os.path.join(tmp, "s0"), config)
    R.check(f"{plugin} stream: uninterrupted run",
            rc == 0 and ref_meta == R.expected_meta(N, versions), failures)

    # The sinks committed rows 0..299: the source sends 300.. again.
    state = os.path.join(tmp, "s-stream")
    _, _, _, rc = attempt(tmp, plugin, x, out_dim, state, config, kill_after=350)
    out, meta, counts, rc2 = attempt(tmp, plugin, x, out_dim, state, config, start=300)
    R.check(f"{plugin} stream: killed, rerun from the first row not committed: as uninterrupted",
            rc == -signal.SIGKILL and rc2 == 0 and meta == ref_meta[300:] and
            R.rows_close(out, ref[300:], 1e-5) and counts.get("rows_reloaded") == 300, failures)

    # No row was committed: the source sends every row again.  Rows 0..299,
    # in the statistics already, are not counted twice: model 3 transforms
    # them as they come; rows 300.. go on as uninterrupted.
    state = os.path.join(tmp, "s-stream-all")
    attempt(tmp, plugin, x, out_dim, state, config, kill_after=350)
    out, meta, counts, rc = attempt(tmp, plugin, x, out_dim, state, config, start=0,
                                    resume=True)
    seen = R.expected_meta(300, [3] * 300)
    model3 = affine_predict(x[200:300], ref[200:300], x[:300])
    R.check(f"{plugin} stream: rerun of every row: seen rows by the current model, no double "
            "count", rc == 0 and meta is not None and meta[:300] == seen and
            meta[300:] == ref_meta[300:] and R.rows_close(out[:300], model3, 1e-4) and
            R.rows_close(out[300:], ref[300:], 1e-5) and counts.get("rows_seen_again") == 300,
            failures)

    # Refits after rows 399 and 499 in the second attempt: it emitted rows
    # 300..499, the rerun emits the rest.
    R.check(f"{plugin} stream: two kills, then a rerun: as uninterrupted",
            two_kills(tmp, plugin, x, out_dim, config, ref[500:], ref_meta[500:]), failures)

    # The check catches a rerun that lost the statistics (a new state directory).
    out, meta, _, _ = attempt(tmp, plugin, x, out_dim, os.path.join(tmp, "s-stream-lost"),
                              config, start=300)
    R.check(f"{plugin} stream: catches lost statistics",
            not (meta == ref_meta[300:] and R.rows_close(out, ref[300:], 1e-5)), failures)

    # A damaged checkpoint: a clear error, never a quiet fresh start.
    state = os.path.join(tmp, "s-stream-damaged")
    attempt(tmp, plugin, x, out_dim, state, config, kill_after=150)
    with open(os.path.join(state, "stream.stats"), "r+b") as f:
        f.seek(40)
        f.write(b"garbage")
    _, _, _, rc = attempt(tmp, plugin, x, out_dim, state, config, start=100)
    R.check(f"{plugin} stream: a damaged checkpoint fails the stage",
            rc not in (0, -signal.SIGKILL), failures)
    for d in os.listdir(tmp):
        if d.startswith("s"):
            shutil.rmtree(os.path.join(tmp, d))


def main():
    failures = []
    x = R.make_data(N, D)
    with tempfile.TemporaryDirectory() as tmp:
        for plugin, out_dim, config in PLUGINS:
            plugin_case(tmp, plugin, out_dim, config, x, failures)
            stream_case(tmp, plugin, out_dim, config, x, failures)
    if failures:
        print("FAILED: " + ", ".join(failures))
        sys.exit(1)


if __name__ == "__main__":
    main()
