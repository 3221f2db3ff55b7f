"""tests/fuzz/corpus_files.py — shared by the seed-corpus writers (make_corpus*.py): a target's
corpus folder, emptied of its seed-* files (crash reproducers, named otherwise, stay), and the
writing of one seed."""
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def out_dir(target):
    path = os.path.join(HERE, "corpus", target)
    os.makedirs(path, exist_ok=True)
    for name in os.listdir(path):
        if name.startswith("seed-"):
            os.remove(os.path.join(path, name))
    return path


def save(directory, name, data):
    with open(os.path.join(directory, "seed-" + name), "wb") as f:
        f.write(data)
