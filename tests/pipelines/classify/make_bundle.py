#!/usr/bin/python3
"""ctest fixture classify_bundle: generated photos, a seeded ResNet50, the
bundle trained on Training/ with `flowrun train pipelines/fruits-train.yaml`
(its default precision, auto: the network's precisions and ranges in the
bundle's embed.calibration), and the reference predictions of the Test photos by the pipeline's own
logreg-predict stage (all class probabilities) in a CSV, the network reading
the bundle's calibration file as classify and serve do.  The reference runs
the network one photo at a time, as classify does and serve does for photos
that arrive alone: oneDNN picks other kernels for other batch sizes, which sum
in another order (features differ by ~1e-6 relative, probabilities by up to
~4e-5), so equality within 1e-5 is checked at equal batch sizes.  Written under
FLOWRUN_BUILD_DIR/tests/classify-fixture (removed first), where the classify
and serve tests read it."""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fruitsdata as F  # noqa: E402

# After the fixture's pca: the classifier, top-1 and every probability.
PREDICT_TAIL = """
  predict: {{plugin: logreg-predict, inputs: pca, model: "{bundle}/classifier.json", top: 1}}
  predictions: {{plugin: csv-sink, inputs: predict, path: "{out}/predictions.csv"}}
  predictall: {{plugin: logreg-predict, inputs: pca, model: "{bundle}/classifier.json",
               top: {classes}}}
  probabilities: {{plugin: csv-sink, inputs: predictall, path: "{out}/probabilities.csv"}}
"""
# The network as the bundle runs it: the training's precisions, from its
# calibration file, read only.
BUNDLE_EMBED = ('batch: 1, precision: auto, calibration: "{bundle}/embed.calibration", '
                'calibration_fixed: true')


def main():
    root = os.path.join(F.BUILD, "tests", "classify-fixture")
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    data, model = F.make_data(root)
    bundle = os.path.join(root, "bundle")
    F.run([F.FLOWRUN, "-q", "train", os.path.join(F.SOURCE, "pipelines/fruits-train.yaml")],
          env=F.env_for(data, model, bundle))
    yaml = os.path.join(root, "predict.yaml")
    F.write_apply_pipeline(yaml, "fruits-predict", root, data, model, bundle,
                           BUNDLE_EMBED.format(bundle=bundle), PREDICT_TAIL)
    F.run([F.FLOWRUN, "-q", yaml])
    print("fixture ready:", root)


if __name__ == "__main__":
    main()
