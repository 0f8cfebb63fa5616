#!/usr/bin/python3
"""ctest fixture classify_bundle: generated photos, a seeded ResNet50, the
bundle trained on Training/ with `flowrun train pipelines/fruits-train.yaml`,
and the reference predictions of the Test photos by the pipeline's own
logreg-predict stage (all class probabilities) in a CSV.  The reference runs
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

PREDICT_YAML = """
name: fruits-predict
dead_letters: {out}/dead.jsonl
stages:
  images: {{plugin: s3-source, url: "{data}/Test", suffix: .jpg}}
  decode: {{plugin: jpeg-decode, inputs: images, dct: islow}}
  resize: {{plugin: resize-224, inputs: decode, filter: bicubic}}
  embed: {{plugin: resnet50-embed, inputs: resize, model: "{model}", preprocess: keras,
          batch: 1, precision: fp32}}
  scale: {{plugin: online-scaler, inputs: embed, flavor: spark, fit: none,
          model: "{bundle}/scaler.stats"}}
  pca: {{plugin: incremental-pca, inputs: scale, flavor: spark, fit: none,
        components: {k}, model: "{bundle}/pca.stats"}}
  predict: {{plugin: logreg-predict, inputs: pca, model: "{bundle}/classifier.json", top: 1}}
  predictions: {{plugin: csv-sink, inputs: predict, path: "{out}/predictions.csv"}}
  predictall: {{plugin: logreg-predict, inputs: pca, model: "{bundle}/classifier.json",
               top: {classes}}}
  probabilities: {{plugin: csv-sink, inputs: predictall, path: "{out}/probabilities.csv"}}
"""


def main():
    root = os.path.join(F.BUILD, "tests", "classify-fixture")
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    data, model = F.make_data(root)
    bundle = os.path.join(root, "bundle")
    F.run([F.FLOWRUN, "-q", "train", os.path.join(F.SOURCE, "pipelines/fruits-train.yaml")],
          env=F.env_for(data, model, bundle))
    yaml = os.path.join(root, "predict.yaml")
    with open(yaml, "w") as f:
        f.write(PREDICT_YAML.format(out=root, data=data, model=model, bundle=bundle,
                                    k=F.COMPONENTS, classes=F.CLASSES))
    F.run([F.FLOWRUN, "-q", yaml])
    print("fixture ready:", root)


if __name__ == "__main__":
    main()
