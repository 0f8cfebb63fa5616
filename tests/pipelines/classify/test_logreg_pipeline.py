#!/usr/bin/python3
"""logreg-train and logreg-predict in pipelines, against scikit-learn.

pipelines/fruits-train.yaml runs on the generated Training split (with a
CSV of its PCA features added, and a second classifier without intercept);
a Test pipeline applies the saved scaler and PCA (fit: none), writes the
Test features and classifies them with logreg-predict.  Then:

- accuracy on Test equals scikit-learn's LogisticRegression(solver=
  "liblinear") trained on the same Training features within 1 point, and
  its probabilities within 1e-3 with the same top-1 (both converged: tol
  1e-8 there, eps 1e-6 here; the objective is strictly convex, so they meet
  at its one optimum).  liblinear 2.3 has no multinomial solver: its L2R_LR
  is one-vs-rest, as scikit-learn's liblinear; scikit-learn's default
  (lbfgs, multinomial) is printed beside it, not asserted: on these few,
  similar classes it differs by a few points, as one-vs-rest does;
- the training accuracy in the model file is right;
- the checks catch deliberate bugs: predictions shuffled between photos,
  a reference trained on shuffled labels, the classifier without intercept.
"""
import json
import os
import sys
import tempfile

import numpy as np
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fruitsdata as F  # noqa: E402

# After the Test pipeline's pca: its features, two classifiers' predictions.
TEST_TAIL = """
  features: {{plugin: csv-sink, inputs: pca, path: "{out}/test-features.csv"}}
  predict: {{plugin: logreg-predict, inputs: pca, model: "{bundle}/classifier.json", top: 3}}
  predictions: {{plugin: csv-sink, inputs: predict, path: "{out}/predictions.csv"}}
  predict0: {{plugin: logreg-predict, inputs: pca, model: "{bundle}/nobias.json", top: 3}}
  predictions0: {{plugin: csv-sink, inputs: predict0, path: "{out}/predictions-nobias.csv"}}
"""

EXTRA_TRAIN_STAGES = """
  features:
    plugin: csv-sink
    inputs: pca
    path: {out}/train-features.csv
  nobias:
    plugin: logreg-train
    inputs: pca
    model: {bundle}/nobias.json
    bias: -1
"""


def matrix(rows, keys):
    return np.stack([rows[k][1] for k in keys]).astype(np.float64)


def accuracy(pred, truth):
    return float(np.mean(np.array(pred) == np.array(truth)))


def main():
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        data, model = F.make_data(tmp)
        bundle, out = os.path.join(tmp, "bundle"), os.path.join(tmp, "out")
        os.mkdir(bundle)
        os.mkdir(out)
        train_yaml = os.path.join(tmp, "train.yaml")
        with open(os.path.join(F.SOURCE, "pipelines/fruits-train.yaml")) as f:
            text = f.read()
        with open(train_yaml, "w") as f:
            f.write(text + EXTRA_TRAIN_STAGES.format(out=out, bundle=bundle))
        # fp32: this test is about the classifier; the precisions are the bundle tests'.
        F.run([F.FLOWRUN, "-q", train_yaml],
              env=F.env_for(data, model, bundle, FRUITS_PRECISION="fp32"))
        test_yaml = os.path.join(tmp, "test.yaml")
        F.write_apply_pipeline(test_yaml, "fruits-test", out, data, model, bundle,
                               "precision: fp32", TEST_TAIL)
        F.run([F.FLOWRUN, "-q", test_yaml])

        train = F.read_csv(os.path.join(out, "train-features.csv"))
        test = F.read_csv(os.path.join(out, "test-features.csv"))
        pred = F.read_csv(os.path.join(out, "predictions.csv"))
        pred0 = F.read_csv(os.path.join(out, "predictions-nobias.csv"))
        tk, sk = sorted(train), sorted(test)
        xt, yt = matrix(train, tk), [F.true_label(k) for k in tk]
        xs, ys = matrix(test, sk), [F.true_label(k) for k in sk]
        ours = [pred[k][0] for k in sk]
        print(f"{len(tk)} training rows, {len(sk)} test rows, {len(set(yt))} classes")

        def liblinear(labels):
            return LogisticRegression(solver="liblinear", C=1.0, tol=1e-8, intercept_scaling=1.0,
                                      max_iter=100000).fit(xt, labels)

        lin = liblinear(yt)
        acc_ours, acc_ref = accuracy(ours, ys), accuracy(lin.predict(xs), ys)
        multinomial = LogisticRegression(max_iter=100000).fit(xt, yt)
        print(f"test accuracy: flowrun {acc_ours:.4f}, scikit-learn liblinear {acc_ref:.4f} "
              f"(scikit-learn lbfgs multinomial: {accuracy(multinomial.predict(xs), ys):.4f})")
        F.check("accuracy within 1 point of scikit-learn", abs(acc_ours - acc_ref) <= 0.01,
                failures)
        F.check("the classifier learned something (accuracy > 2 x chance)",
                acc_ours > 2.0 / F.CLASSES, failures)
        shuffled = list(np.random.default_rng(1).permutation(ours))
        F.check("catches predictions shuffled between photos",
                abs(accuracy(shuffled, ys) - acc_ref) > 0.01, failures)
        yt_bad = list(np.random.default_rng(2).permutation(yt))
        bad = liblinear(yt_bad)
        F.check("catches a reference trained on shuffled labels",
                abs(acc_ours - accuracy(bad.predict(xs), ys)) > 0.01, failures)

        lp = lin.predict_proba(xs)
        cls = list(lin.classes_)

        def prob_error(p):
            worst = 0.0
            for i, k in enumerate(sk):
                names = [p[k][0]]  # top-1 label; scores are the top-3 probabilities
                scores = p[k][1]
                top = np.argsort(-lp[i], kind="stable")[:3]
                if cls[top[0]] != names[0]:
                    return 1.0
                worst = max(worst, float(np.abs(np.sort(lp[i])[::-1][:3] - scores).max()))
            return worst

        err = prob_error(pred)
        print(f"max |p - p_sklearn_liblinear| over the top 3: {err:.2e}")
        F.check("probabilities as scikit-learn's liblinear within 1e-3", err <= 1e-3, failures)
        F.check("catches the classifier without intercept", prob_error(pred0) > 1e-3, failures)

        with open(os.path.join(bundle, "classifier.json")) as f:
            meta = json.load(f)
        train_acc = accuracy(lin.predict(xt), yt)
        got = meta["metrics"]["training"]
        F.check("model file: classes sorted, training rows and accuracy",
                meta["classes"] == sorted(set(yt)) and got["rows"] == len(tk)
                and abs(got["accuracy"] - train_acc) <= 0.01, failures)
    if failures:
        sys.exit(f"{len(failures)} check(s) failed: {failures}")


if __name__ == "__main__":
    main()
