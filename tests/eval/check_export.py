# tests/eval/check_export.py — the .npz of `gammacl eval --export` against what the model computes:
# unit features, cosines = features . normalized weights, predictions = arg max of the cosines,
# their accuracy = eval.json's clean accuracy, normalized weights = the raw ones over their norms.
import sys

import numpy as np

z = np.load(sys.argv[1], allow_pickle=False)
clean = float(sys.argv[2])
need = {"features", "cosines", "labels", "predictions", "class_weights", "class_weights_normalized", "gamma", "bias"}
missing = need - set(z.files)
assert not missing, f"missing arrays: {missing}"
h, c, y, p = z["features"], z["cosines"], z["labels"], z["predictions"]
w, wn = z["class_weights"], z["class_weights_normalized"]
n, d = h.shape
k = w.shape[0]
assert c.shape == (n, k) and y.shape == (n,) and p.shape == (n,) and wn.shape == (k, d), "shapes"
assert h.dtype == np.float32 and y.dtype == np.int32, "dtypes"
assert np.allclose(np.linalg.norm(h, axis=1), 1, atol=1e-5), "features are not unit vectors"
assert np.allclose(wn, w / np.linalg.norm(w, axis=1, keepdims=True), atol=1e-6), "normalized weights"
assert np.abs(h.astype(np.float64) @ wn.T.astype(np.float64) - c).max() < 1e-5, "cosines differ from features . weights"
assert (np.argmax(c, axis=1) == p).all(), "predictions are not the arg max of the cosines"
acc = float((p == y).mean())
assert abs(acc - clean) < 1e-12, f"accuracy {acc} differs from eval.json's {clean}"
assert z["gamma"].shape == () and float(z["gamma"]) == 8.0, "gamma"
print(f"export ok: {n} samples, d = {d}, K = {k}, accuracy {acc:.4f}")
